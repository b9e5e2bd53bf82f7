#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "events/db.hpp"
#include "events/envelope.hpp"
#include "events/relay_floor.hpp"

namespace soci {
class session;
}

namespace bazaar::events {

class Metrics;
class Producer;
class SchemaRegistry;

/// Adds events to the outbox inside the caller's open transaction, so they are published if
/// and only if that transaction commits.
class OutboxWriter {
 public:
  /// When the rows reach the table: with each add(), or all of them with flush(), in one
  /// statement (a batch of records in one transaction writes its outbox once).
  enum class Write { at_once, at_flush };

  OutboxWriter(soci::session& sql, const SchemaRegistry& schemas, Write when = Write::at_once);
  OutboxWriter(const OutboxWriter&) = delete;
  OutboxWriter& operator=(const OutboxWriter&) = delete;
  /// Rows still waiting for flush() are dropped, and said so: their transaction must not have
  /// committed (an exception rolled it back, or a bug skipped the flush).
  ~OutboxWriter();

  /// Queues `e` for `topic`, keyed by its subject. A payload that breaks its schema is a bug
  /// and throws std::logic_error, which rolls the transaction back.
  void add(const std::string& topic, const Envelope& e);
  /// Inserts the rows add() queued (Write::at_flush), in the order they were added; must run
  /// before the transaction commits.
  void flush();
  /// flush() and commit `tx` (the writer's transaction) in one round trip: the insert and
  /// COMMIT go out together.
  void commit(Transaction& tx);
  std::size_t added() const { return added_; }

 private:
  struct Row {
    std::string id, topic, key, type, payload, headers;
  };
  /// Inserts the queued rows, committing `committing` with them unless it is null.
  void write(Transaction* committing);

  soci::session& sql_;
  const SchemaRegistry& schemas_;
  Write when_;
  std::vector<Row> queued_;
  std::size_t added_ = 0;
};

/// Tells the database which process `sql`'s connection belongs to (once per connection). An
/// outbox insert of a connection whose process holds the relay lease sends no NOTIFY: that
/// relay is woken in-process by ring_relays() instead. A NOTIFY takes a lock at commit that
/// every notifying commit of the cluster queues for, and wakes the relay's backend too.
void identify_connection(soci::session& sql);

/// Wakes every relay of this process at once: called right after a transaction that added
/// outbox rows committed (never before: the relay would not see them yet).
void ring_relays();

/// How the relay works.
struct RelaySettings {
  std::string db_url;
  int batch = 500;
  std::chrono::milliseconds poll{500};  ///< fallback when no NOTIFY arrives
  std::chrono::hours retention{24 * 7};
  std::chrono::milliseconds send_timeout{30'000};
  /// How long the lease lasts without renewal: a holder that stops making progress (frozen,
  /// cut off) loses it after this, and another instance takes over.
  std::chrono::milliseconds lease{5'000};
};

/// Publishes outbox rows in `seq` order and marks them published only after their delivery
/// reports. Each pass starts at the floor (RelayFloor), below which every row is published. Woken
/// by its own process's commits (ring_relays()), by LISTEN/NOTIFY for every other writer (another
/// instance, an operator), with polling as the fallback. Only the holder of the database's relay
/// lease publishes, so several instances of a service can run; the holder renews the lease as it
/// works, and loses it to another instance when it stops doing so. A crash between publishing and
/// marking republishes those rows; the inbox of every consumer absorbs the copies.
class OutboxRelay {
 public:
  OutboxRelay(RelaySettings settings, Producer& producer, Metrics* metrics = nullptr);
  ~OutboxRelay();
  OutboxRelay(const OutboxRelay&) = delete;
  OutboxRelay& operator=(const OutboxRelay&) = delete;

  /// Works until `stop` becomes true; retries database and broker failures with backoff.
  void run(const std::atomic<bool>& stop);

  /// The outcome of one pass.
  struct Pass {
    std::size_t published = 0;
    std::size_t failed = 0;
    bool more = false;  ///< the batch was full: go again at once
    std::string error;  ///< first delivery error, when `failed` > 0
  };
  /// One pass over at most one batch. Takes or renews the lease first; returns an empty pass
  /// when another instance holds it.
  Pass publish_once();
  /// Deletes published outbox rows and inbox rows older than the retention.
  void purge();
  bool holds_lock() const { return locked_; }

 private:
  bool acquire();
  std::chrono::milliseconds wait_budget() const;
  void wait_for_notification(std::chrono::milliseconds timeout);

  RelaySettings settings_;
  Producer& producer_;
  Metrics* metrics_;
  Database db_;
  std::string holder_;  ///< this relay's id in the lease row
  int bell_ = -1;       ///< eventfd written by ring_relays()
  bool locked_ = false;
  std::chrono::steady_clock::time_point renewed_{};
  RelayFloor floor_;  ///< where passes start; kept in the lease row
};

}  // namespace bazaar::events
