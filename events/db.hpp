#pragma once

#include <exception>
#include <memory>
#include <string>
#include <vector>

struct pg_result;

namespace soci {
class session;
}

namespace bazaar::events {

/// One PostgreSQL connection of a component, opened lazily and reopened after it broke.
class Database {
 public:
  explicit Database(std::string url);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  /// The open session; connects first when needed (throws soci::soci_error when it cannot).
  soci::session& session();
  /// Drops the connection so the next session() reconnects.
  void reset();
  /// True when the connection exists and the server answers on it (a round trip: for the
  /// paths after an error, see connection_answers()).
  bool connected();
  /// Runs a script of several statements (migrations) in one round trip.
  void exec_script(const std::string& sql);

 private:
  std::string url_;
  std::unique_ptr<soci::session> session_;
};

/// The rows a PreparedStatement returned, every column as PostgreSQL's text for it.
class PreparedRows {
 public:
  explicit PreparedRows(pg_result* result) : result_(result) {}
  int size() const;
  bool empty() const { return size() == 0; }
  bool null(int row, int column) const;
  /// The column's text; empty for NULL.
  std::string text(int row, int column) const;
  /// The column as an integer (a bigint, an int, a boolean cast to int); 0 for NULL. Throws
  /// std::invalid_argument for text that is not one.
  long long integer(int row, int column) const;

 private:
  struct Clear {
    void operator()(pg_result* r) const;
  };
  std::unique_ptr<pg_result, Clear> result_;
};

/// A transaction whose BEGIN reaches the server together with its first statement (a
/// PreparedStatement's run_first() or query_first()), and whose COMMIT may go with its last
/// (run_committing()): one round trip each instead of two. A statement run before the first
/// would run outside it: the first must come first. Rolled back when destroyed unless committed.
class Transaction {
 public:
  explicit Transaction(soci::session& sql) : sql_(sql) {}
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  /// Commits; throws std::logic_error when no statement opened the transaction.
  void commit();
  /// Rolls back what the transaction did (nothing when no statement opened it).
  void rollback();

 private:
  friend class PreparedStatement;
  soci::session& sql_;
  bool open_ = false;
};

/// A statement run for every record (the inbox's, the outbox's, a saga's load and update):
/// prepared once per connection and then run by name, so the server parses and plans it once
/// instead of on every run (a third of PostgreSQL's CPU went to that). Its SQL takes
/// positional parameters ($1, $2...), all passed as text, a null pointer for NULL. Errors are
/// thrown as SOCI's PostgreSQL errors, so they classify like any other statement's.
///
/// PostgreSQL keeps the generic plan it made after a statement's fifth run, and one made while a
/// table was small scans it whole on every run once it has grown, until the table is next
/// analysed: a statement is prepared again on its connection every ten seconds, so that its plan
/// follows its tables' size. A statement whose best plan depends on how many rows it is given (a
/// batch's rows looked up by key) is better planned on every run (Plan::per_run).
class PreparedStatement {
 public:
  enum class Plan { cached, per_run };
  PreparedStatement(std::string name, std::string sql, Plan plan = Plan::cached)
      : name_(std::move(name)), sql_(std::move(sql)), plan_(plan) {}
  /// Runs it on `sql`'s connection (inside its open transaction, if any); returns how many
  /// rows it returned.
  int run(soci::session& sql, const std::vector<const std::string*>& values) const;
  /// Runs it and returns its rows.
  PreparedRows query(soci::session& sql, const std::vector<const std::string*>& values) const;
  /// run() as the first statement of `tx`, which it opens: BEGIN and the statement go out
  /// together (libpq's pipeline mode). When `tx` is open already, the same as run().
  int run_first(Transaction& tx, const std::vector<const std::string*>& values) const;
  /// query() as the first statement of `tx`, likewise.
  PreparedRows query_first(Transaction& tx, const std::vector<const std::string*>& values) const;
  /// Runs it as the last statement of `tx` and commits: the statement and COMMIT go out
  /// together. Throws std::logic_error when `tx` is not open.
  void run_committing(Transaction& tx, const std::vector<const std::string*>& values) const;
  /// run_committing() that returns the statement's rows.
  PreparedRows query_committing(Transaction& tx,
                                const std::vector<const std::string*>& values) const;

 private:
  pg_result* execute(soci::session& sql, const std::vector<const std::string*>& values) const;
  pg_result* execute_first(Transaction& tx, const std::vector<const std::string*>& values) const;
  pg_result* execute_last(Transaction& tx, const std::vector<const std::string*>& values) const;
  void prepare_on(soci::session& sql) const;

  std::string name_;
  std::string sql_;
  Plan plan_;
};

/// A statement run with the rows of a batch: prepared and planned once for a single row (a
/// record alone, as with one order in flight, where planning on every run cost more than the
/// statement), planned on every run for several (PreparedStatement::Plan::per_run), where a
/// generic plan made while the table was small would scan it whole.
class BatchStatement {
 public:
  BatchStatement(const std::string& name, const std::string& sql)
      : one_(name, sql), many_(name + "_many", sql, PreparedStatement::Plan::per_run) {}
  /// The statement for `rows` rows.
  const PreparedStatement& rows(std::size_t rows) const { return rows > 1 ? many_ : one_; }

 private:
  PreparedStatement one_;
  PreparedStatement many_;
};

/// A PostgreSQL array literal of `items` (for `CAST(:x AS text[])`), each element quoted and
/// escaped, so one statement can take a whole batch of values.
std::string pg_text_array(const std::vector<std::string>& items);
/// The same for integers (`CAST(:x AS bigint[])`).
std::string pg_int_array(const std::vector<long long>& items);

/// Whether retrying can help: a broken connection or a server restart is transient;
/// a constraint violation or a bug is not.
enum class FailureKind { transient, permanent };

/// What went wrong, safe to log and to put in a dead-letter header: SOCI's own message adds
/// the statement and its bound values (payment tokens, personal data), and PostgreSQL's DETAIL
/// the failing row; this keeps the first line of the error and its SQLSTATE only.
std::string error_summary(const std::exception& error);

/// Classifies an exception thrown while working with `db`.
FailureKind classify(const std::exception& error, Database& db);
/// Classifies an exception thrown on a connection that is (or is no longer) alive.
FailureKind classify(const std::exception& error, bool connection_alive);

/// Whether the libpq connection behind `sql` exists and is healthy, without a round trip
/// (SOCI's is_connected() pings the server, and answers false for a session to reopen).
bool connection_ok(soci::session& sql);

/// Whether the server answers on the connection behind `sql`: an empty query's round trip.
/// After the server went away, libpq over a Unix socket still reports the connection as
/// healthy until it is used once more, so the paths after an error ask this instead.
bool connection_answers(soci::session& sql);

/// A libpq key=value connection string for a `postgresql://user:password@host:port/db?k=v`
/// URL (SOCI 4.0 takes no URLs), with `connect_timeout=5` unless the URL sets one. Throws
/// std::invalid_argument for anything else.
std::string to_conninfo(const std::string& url);

/// True when a connection attempt to `url` succeeds within a few seconds.
bool database_reachable(const std::string& url);

}  // namespace bazaar::events
