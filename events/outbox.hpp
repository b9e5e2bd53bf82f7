#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "events/db.hpp"
#include "events/envelope.hpp"
#include "events/relay_floor.hpp"

namespace soci {
class session;
class transaction;
}  // namespace soci

namespace bazaar::events {

class Metrics;
class Producer;
class SchemaRegistry;

struct RelayMailbox;

/// An outbox row as the relay publishes it: its seq, topic, key, and payload and headers as
/// PostgreSQL prints them from jsonb.
struct OutboxRow {
  long long seq = 0;
  std::string topic, key, payload, headers;
};

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
  /// COMMIT go out together. Then handed_over().
  void commit(Transaction& tx);
  /// Commits `tx` (the writer's transaction), then handed_over().
  void commit(soci::transaction& tx);
  /// Hands the rows this writer inserted to this process's relay of the same database and wakes
  /// it; the relay publishes them without reading them back when nothing unpublished comes
  /// before them (OutboxRelay). Only right after its transaction committed: commit() calls it.
  void handed_over();
  std::size_t added() const { return added_; }

 private:
  struct Row {
    std::string id, topic, key, type, payload, headers;
  };
  /// Inserts the queued rows, committing `committing` with them unless it is null.
  void write(Transaction* committing);
  /// Keeps the rows an insert returned, for handed_over().
  void keep(const PreparedRows& rows);
  /// Forgets the kept rows when the transaction failed: PostgreSQL answers its COMMIT with a
  /// rollback, and the rows never exist.
  void forget_if_failed();

  soci::session& sql_;
  const SchemaRegistry& schemas_;
  Write when_;
  std::vector<Row> queued_;
  std::vector<OutboxRow> written_;
  std::size_t added_ = 0;
};

/// Tells the database which process `sql`'s connection belongs to (once per connection). An
/// outbox insert of a connection whose process holds the relay lease sends no NOTIFY: that
/// relay is woken in-process by ring_relays() instead. A NOTIFY takes a lock at commit that
/// every notifying commit of the cluster queues for, and wakes the relay's backend too.
void identify_connection(soci::session& sql);

/// Wakes every relay of this process at once for a read of the outbox: after a transaction of
/// this process added outbox rows that no relay was handed (never before its commit: the relay
/// would not see them yet).
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
  /// How long rows published without a read may wait for their mark: the marks of the passes
  /// in between go out as one transaction. A crash republishes at most what waited, which the
  /// inboxes absorb; a read, a lost lease and a clean stop mark them first.
  std::chrono::milliseconds mark_delay{100};
};

/// Publishes outbox rows in `seq` order and marks them published only after their delivery
/// reports. Each pass starts at the floor (RelayFloor), below which every row is published. Woken
/// by its own process's commits (OutboxWriter::handed_over(), ring_relays()), by LISTEN/NOTIFY for
/// every other writer (another instance, an operator), with polling as the fallback. The rows its
/// own process's writers committed come with the wake (OutboxWriter::handed_over()): when their
/// seqs follow the floor one after another, every row before them is published, so they are
/// published as they came, without a read; otherwise a pass reads them. Only the holder of the
/// database's relay lease publishes, so several instances of a service can run; the holder renews
/// the lease as it works, gives it up when it stops, and loses it to another instance when it stops
/// renewing it. A crash between publishing and marking republishes those rows; the inbox of every
/// consumer absorbs the copies.
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
    std::size_t handed = 0;  ///< of `published`, rows handed over and published without a read
    std::size_t failed = 0;
    bool more = false;  ///< the batch was full: go again at once
    std::string error;  ///< first delivery error, when `failed` > 0
  };
  /// One pass over at most one batch: the rows handed over that can go without a read, then a
  /// read (unless sending the handed rows failed). Takes or renews the lease first; returns an
  /// empty pass when another instance holds it.
  Pass publish_once();
  /// Deletes published outbox rows and inbox rows older than the retention.
  void purge();
  bool holds_lock() const { return locked_; }

 private:
  bool acquire();
  /// Gives the lease up, so that another instance takes over at once (a clean stop).
  void release();
  /// Writers hand this relay nothing while it does not hold the lease.
  void forget_database();
  std::chrono::milliseconds wait_budget() const;
  /// Waits for a wake; `scan_on_timeout`: a wait that ends with none calls for a read (the
  /// fallback poll), unlike one cut short for marks that are due.
  void wait_for_notification(std::chrono::milliseconds timeout, bool scan_on_timeout = true);
  /// Publishes `rows` (sorted by seq; their texts are moved out); returns the seqs delivered and
  /// counts the outcomes in `pass`.
  std::vector<long long> send(std::vector<OutboxRow>& rows, Pass& pass);
  /// Marks the delivered rows and keeps the floor in the lease row; returns the id of the
  /// mark's transaction.
  std::string mark(const std::vector<long long>& delivered);
  /// Marks later what a pass published without a read (settings.mark_delay).
  void defer_mark(const std::vector<long long>& delivered);
  /// Marks what waits for its mark, if anything.
  void mark_waiting();
  /// publish_once() after a wake: the read only when something calls for one (`scan_`).
  Pass publish_woken();
  /// Publishes the handed rows that follow the floor one after another; sets `scan_` when any
  /// are left to a read.
  Pass publish_handed(std::vector<OutboxRow> rows);
  /// A pass that reads the unpublished rows above the floor.
  Pass publish_read();

  RelaySettings settings_;
  Producer& producer_;
  Metrics* metrics_;
  Database db_;
  std::string holder_;  ///< this relay's id in the lease row
  int bell_ = -1;       ///< eventfd: written by ring_relays() and with rows handed over
  bool locked_ = false;
  std::chrono::steady_clock::time_point renewed_{};
  RelayFloor floor_;                       ///< where passes start; kept in the lease row
  std::unique_ptr<RelayMailbox> mailbox_;  ///< rows handed over by this process's writers
  /// A read is due: after a NOTIFY, a plain wake, a timeout, handed rows left over, a failed
  /// send, a full batch, or taking the lease.
  bool scan_ = true;
  std::vector<long long> unmarked_;  ///< published without a read, waiting for their mark
  std::chrono::steady_clock::time_point unmarked_since_{};
};

}  // namespace bazaar::events
