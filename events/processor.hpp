#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "events/backoff.hpp"
#include "events/handler.hpp"
#include "events/kafka_client.hpp"

namespace bazaar::events {

class EnvelopeFactory;
class Metrics;
class Producer;
class SchemaRegistry;

/// A consumer group member and the place it applies its events.
struct ProcessorSettings {
  std::string brokers;
  std::string group;  ///< consumer group, inbox consumer name, and `dlq.<group>`
  std::vector<std::string> topics;
  std::string db_url;
  BackoffPolicy backoff{};
  int max_batch = 500;
  /// Offsets of applied records are committed at most this often (and always before partitions
  /// move away or the member leaves): an OffsetCommit per small batch cost the broker more CPU
  /// than the records themselves. A crash replays at most this much more into the inbox.
  std::chrono::milliseconds commit_interval{500};
  /// How long the broker may hold a fetch for `fetch_min_bytes` to arrive. With one byte a fetch
  /// returns at the first new record whatever the wait, so the wait only sets how often an idle
  /// consumer asks again (at 100 ms the idle broker spent twice the CPU); the cost is that a
  /// resumed or newly assigned partition waits for the fetch in flight to return.
  std::chrono::milliseconds fetch_wait{500};
  int fetch_min_bytes = 1;
  int dlq_partitions = 6;
  int replication_factor = 1;
  /// Largest dead-letter record (key, value and headers) sent as it is; a larger one is
  /// dead-lettered with its payload replaced by a reference to where it still is.
  std::size_t dlq_max_bytes = 1'000'000;
  /// Per-key order matters (a saga): once a record is dead-lettered, later records of its key
  /// in its partition are parked behind it (dead-lettered with reason `parked`) instead of
  /// applied out of order, until a redriven record of the key releases it.
  bool quarantine = false;
  KafkaProperties overrides{};
};

/// The one handler shape, written once: decode -> inbox -> decide -> one SQL transaction
/// (state + outbox) -> commit offset. Offsets are committed only after the transaction
/// commits, so a crash anywhere replays from the last commit and the inbox absorbs the replay.
/// A transient failure pauses its partition and retries the same record with capped backoff;
/// a permanent one sends the record to `dlq.<group>` and the partition moves on.
class Processor {
 public:
  Processor(ProcessorSettings settings, Handler& handler, const SchemaRegistry& schemas,
            const EnvelopeFactory& factory, Producer& dlq_producer, Metrics* metrics = nullptr);
  ~Processor();
  Processor(const Processor&) = delete;
  Processor& operator=(const Processor&) = delete;

  /// Polls and applies until `stop` becomes true, then commits and leaves the group cleanly.
  void run(const std::atomic<bool>& stop);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace bazaar::events
