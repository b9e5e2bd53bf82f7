#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "events/backoff.hpp"
#include "events/clock.hpp"
#include "events/envelope.hpp"
#include "events/kafka_client.hpp"

namespace soci {
class session;
}

namespace bazaar::events {

class EnvelopeFactory;
class Metrics;
class OutboxWriter;
class Producer;
class SchemaRegistry;

/// Thrown by a handler for an event that can never be applied; the event goes to the
/// dead-letter topic with this message as its reason.
class PermanentError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Thrown by a handler when a dependency failed in a way that a later retry can fix (a
/// provider's temporary error); the record is retried with backoff, never skipped.
class TransientError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// What a handler gets for one event: the event, the open transaction, and the outbox of that
/// transaction.
struct HandlerContext {
  const Envelope& event;
  soci::session& sql;
  OutboxWriter& outbox;
  const EnvelopeFactory& factory;  ///< stamps the events this one causes
  const Clock& clock;
  /// Side effects outside the database (a log sink, a WebSocket push) registered with
  /// after_commit() run only once the transaction committed, never for a rolled-back try.
  std::vector<std::function<void()>>* on_commit = nullptr;

  void after_commit(std::function<void()> effect) const {
    if (on_commit != nullptr) on_commit->push_back(std::move(effect));
  }
};

/// For a record that may have overtaken the one it depends on (they travel on different
/// topics): throws TransientError, so it is retried, while the record is younger than `grace`
/// by its ce_time; afterwards returns and the caller decides (usually: reject it).
void retry_while_recent(const HandlerContext& ctx, std::chrono::milliseconds grace,
                        const std::string& why);

/// A service's part of the handler shape: the decision and its SQL. Everything around it
/// (decode, validate, inbox, transaction, offsets, retries, dead letters) is the Processor's.
class Handler {
 public:
  virtual ~Handler() = default;
  /// Event types this handler applies; the others are acknowledged and skipped.
  virtual bool wants(const std::string& type) const = 0;
  /// Applies one event inside the open transaction. Database errors propagate (transient
  /// ones are retried); PermanentError sends the event to the dead-letter topic.
  virtual void apply(HandlerContext& ctx) = 0;
  /// Whether several records may share one transaction. A handler that locks rows shared
  /// across aggregates in a fixed order (inventory's sorted stock locks) says no: a batch would
  /// lock them in poll order and could deadlock with another instance.
  virtual bool batchable() const { return true; }
};

/// A consumer group member and the place it applies its events.
struct ProcessorSettings {
  std::string brokers;
  std::string group;  ///< consumer group, inbox consumer name, and `dlq.<group>`
  std::vector<std::string> topics;
  std::string db_url;
  BackoffPolicy backoff{};
  int max_batch = 500;
  int dlq_partitions = 6;
  int replication_factor = 1;
  /// Largest dead-letter record (key, value and headers) sent as it is; a larger one is
  /// dead-lettered with its payload replaced by a reference to where it still is.
  std::size_t dlq_max_bytes = 1'000'000;
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
