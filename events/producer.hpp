#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "events/envelope.hpp"
#include "events/kafka_client.hpp"

namespace RdKafka {
class Producer;
}

namespace bazaar::events {

/// One record to publish.
struct OutgoingRecord {
  std::string topic;
  std::string key;
  std::string value;
  Headers headers;
};

/// What the broker said about one record.
struct DeliveryReport {
  bool delivered = false;
  std::string error;       ///< empty when delivered
  bool too_large = false;  ///< refused for its size: resending it as it is cannot succeed
  std::int32_t partition = -1;
  std::int64_t offset = -1;
};

/// An idempotent producer (`acks=all`, `enable.idempotence=true`, gapless): a record counts
/// as sent only once its delivery report says so. A fatal error (librdkafka 2.0 can raise one
/// on out-of-order sequences) makes the next send start with a fresh producer; the records it
/// did not confirm are reported as failed so the caller resends them.
class Producer {
 public:
  Producer(std::string brokers, KafkaProperties overrides = {});
  ~Producer();
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  /// Produces every record and waits until each has a delivery report or `timeout` passes.
  /// Reports come back in the order of `records`. Safe to call from several threads.
  std::vector<DeliveryReport> send(const std::vector<OutgoingRecord>& records,
                                   std::chrono::milliseconds timeout);
  /// True when the broker answered a metadata request within `timeout`.
  bool broker_reachable(std::chrono::milliseconds timeout);
  /// How many times the producer was rebuilt after a fatal error.
  int recreations() const { return recreations_; }

 private:
  void create();

  std::string brokers_;
  KafkaProperties overrides_;
  std::mutex mutex_;
  /// When the send under way started (steady clock, ms; 0: none): a probe that finds the
  /// producer busy judges the broker by how long that send has been waiting.
  std::atomic<std::int64_t> busy_since_ms_{0};
  std::unique_ptr<RdKafka::Producer> producer_;
  class Reports;
  std::unique_ptr<Reports> reports_;
  int recreations_ = 0;
};

}  // namespace bazaar::events
