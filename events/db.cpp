#include "events/db.hpp"

#include <libpq-fe.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <spdlog/spdlog.h>

#include <charconv>
#include <chrono>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string_view>
#include <vector>

#include "events/outbox.hpp"

namespace bazaar::events {
namespace {

PGconn* native(soci::session& s) {
  auto* backend = static_cast<soci::postgresql_session_backend*>(s.get_backend());
  return backend != nullptr ? backend->conn_ : nullptr;
}

std::string percent_decode(std::string_view in) {
  std::string out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size()) {
      out.push_back(static_cast<char>(std::stoi(std::string(in.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(in[i]);
    }
  }
  return out;
}

// libpq quotes values in single quotes, escaping backslashes and quotes.
std::string quoted(const std::string& value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\\' || c == '\'') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

bool transient_sqlstate(const std::string& state) {
  if (state.size() != 5) return false;
  const std::string cls = state.substr(0, 2);
  // 08 connection, 40 serialization/deadlock, 53 resources, 57 operator intervention
  // (shutdown), 58 system error.
  return cls == "08" || cls == "40" || cls == "53" || cls == "57" || cls == "58";
}

}  // namespace

std::string to_conninfo(const std::string& url) {
  std::string_view rest(url);
  if (rest.starts_with("postgresql://")) {
    rest.remove_prefix(13);
  } else if (rest.starts_with("postgres://")) {
    rest.remove_prefix(11);
  } else {
    throw std::invalid_argument("not a postgresql:// URL");
  }
  std::vector<std::pair<std::string, std::string>> params;
  std::string_view query;
  if (const auto q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  std::string_view path;
  if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
    path = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
  }
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
    const std::string_view userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    const auto colon = userinfo.find(':');
    params.emplace_back("user", percent_decode(userinfo.substr(0, colon)));
    if (colon != std::string_view::npos) {
      params.emplace_back("password", percent_decode(userinfo.substr(colon + 1)));
    }
  }
  if (!rest.empty()) {
    const auto colon = rest.rfind(':');
    params.emplace_back("host", std::string(rest.substr(0, colon)));
    if (colon != std::string_view::npos)
      params.emplace_back("port", std::string(rest.substr(colon + 1)));
  }
  if (!path.empty()) params.emplace_back("dbname", percent_decode(path));
  bool has_timeout = false;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    if (eq == std::string_view::npos) throw std::invalid_argument("bad URL parameter");
    const std::string key(pair.substr(0, eq));
    has_timeout = has_timeout || key == "connect_timeout";
    params.emplace_back(key, percent_decode(pair.substr(eq + 1)));
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
  }
  // A dead server must not hang a connection attempt forever.
  if (!has_timeout) params.emplace_back("connect_timeout", "5");
  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) out.push_back(' ');
    out += k + "=" + quoted(v);
  }
  return out;
}

Database::Database(std::string url) : url_(to_conninfo(url)) {}
Database::~Database() = default;

soci::session& Database::session() {
  if (!session_) {
    auto s = std::make_unique<soci::session>(soci::postgresql, url_);
    // NOTICEs go to stderr by default; they are never errors for us.
    PQsetNoticeProcessor(
        native(*s), [](void*, const char*) {}, nullptr);
    identify_connection(*s);
    session_ = std::move(s);
  }
  return *session_;
}

void Database::reset() {
  session_.reset();
}

bool Database::connected() {
  return session_ && connection_answers(*session_);
}

void Database::exec_script(const std::string& sql) {
  PGresult* result = PQexec(native(session()), sql.c_str());
  const auto status = PQresultStatus(result);
  const std::string message = PQresultErrorMessage(result);
  PQclear(result);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    throw std::runtime_error("SQL script failed: " + message);
  }
}

std::string first_line(const std::string& message) {
  // PostgreSQL's DETAIL and CONTEXT lines quote the row and the values that failed (a
  // constraint's "Failing row contains (...)"): personal data, never fit for a log or a header.
  std::string out = message.substr(0, message.find('\n'));
  while (!out.empty() && (out.back() == ' ' || out.back() == '.')) out.pop_back();
  return out;
}

std::string error_summary(const std::exception& error) {
  if (const auto* pg = dynamic_cast<const soci::postgresql_soci_error*>(&error)) {
    return first_line(pg->get_error_message()) + " (SQLSTATE " + pg->sqlstate() + ")";
  }
  if (const auto* soci_error = dynamic_cast<const soci::soci_error*>(&error)) {
    return first_line(soci_error->get_error_message());
  }
  return error.what();
}

FailureKind classify(const std::exception& error, Database& db) {
  return classify(error, db.connected());
}

bool connection_ok(soci::session& sql) {
  PGconn* conn = native(sql);
  return conn != nullptr && PQstatus(conn) == CONNECTION_OK;
}

bool connection_answers(soci::session& sql) {
  if (sql.get_backend() == nullptr || !connection_ok(sql)) return false;
  PGconn* conn = native(sql);
  PGresult* result = PQexec(conn, "");
  const bool answered = PQresultStatus(result) == PGRES_EMPTY_QUERY;
  PQclear(result);
  return answered && PQstatus(conn) == CONNECTION_OK;
}

FailureKind classify(const std::exception& error, bool connection_alive) {
  if (const auto* pg = dynamic_cast<const soci::postgresql_soci_error*>(&error)) {
    // Class 22, data exception (22021 a NUL in text, 22003 a number out of range, 22001 a
    // string too long, 22P05 a NUL in jsonb): the server answered, and the same value fails
    // the same way however often it is retried.
    if (pg->sqlstate().starts_with("22")) return FailureKind::permanent;
    if (transient_sqlstate(pg->sqlstate())) return FailureKind::transient;
  }
  if (const auto* soci_error = dynamic_cast<const soci::soci_error*>(&error)) {
    switch (soci_error->get_error_category()) {
      case soci::soci_error::connection_error:
      case soci::soci_error::unknown_transaction_state:
      case soci::soci_error::system_error:
        return FailureKind::transient;
      default:
        break;
    }
  }
  // Whatever the error says, a dead connection means the server went away mid-statement.
  if (!connection_alive) return FailureKind::transient;
  return FailureKind::permanent;
}

bool database_reachable(const std::string& url) {
  PGconn* conn = PQconnectdb(to_conninfo(url).c_str());
  const bool ok = PQstatus(conn) == CONNECTION_OK;
  PQfinish(conn);
  return ok;
}

namespace {

[[noreturn]] void throw_result_error(PGconn* conn, PGresult* result) {
  std::string message = result != nullptr ? PQresultErrorMessage(result) : PQerrorMessage(conn);
  const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  const std::string sqlstate = state != nullptr ? state : "";
  PQclear(result);
  if (sqlstate.empty()) throw soci::soci_error(message);
  throw soci::postgresql_soci_error(message, sqlstate.c_str());
}

// The statements prepared on each connection, by backend process: a reconnect (a new backend,
// even at a reused address) starts with none. Shared by every thread, because pooled
// connections (edge's) move between threads; a connection itself is used by one at a time.
struct PreparedOn {
  int backend = 0;
  std::map<std::string, std::chrono::steady_clock::time_point> names;  ///< when each was prepared
};
std::mutex prepared_mutex;
std::map<PGconn*, PreparedOn> prepared_on;

// PostgreSQL plans a prepared statement for good after its fifth run, from the size its tables
// had then (until they are next analysed): one prepared while a table was small scans it whole
// on every run once it has grown. Prepared again this long after, its plan follows the tables.
constexpr std::chrono::seconds kReplanEvery{10};

enum class Preparation { ready, first, again };

Preparation preparation(PGconn* conn, const std::string& name) {
  std::lock_guard lock(prepared_mutex);
  auto& on = prepared_on[conn];
  if (on.backend != PQbackendPID(conn)) on = PreparedOn{PQbackendPID(conn), {}};
  const auto found = on.names.find(name);
  if (found == on.names.end()) return Preparation::first;
  return std::chrono::steady_clock::now() - found->second >= kReplanEvery ? Preparation::again
                                                                          : Preparation::ready;
}

void remember_prepared(PGconn* conn, const std::string& name) {
  std::lock_guard lock(prepared_mutex);
  prepared_on[conn].names[name] = std::chrono::steady_clock::now();
}

// A DEALLOCATE takes effect at once, whatever becomes of the transaction around it.
void forget_prepared(PGconn* conn, const std::string& name) {
  std::lock_guard lock(prepared_mutex);
  prepared_on[conn].names.erase(name);
}

}  // namespace

int PreparedStatement::run(soci::session& sql,
                           const std::vector<const std::string*>& values) const {
  PGresult* result = execute(sql, values);
  const int rows = PQntuples(result);
  PQclear(result);
  return rows;
}

PreparedRows PreparedStatement::query(soci::session& sql,
                                      const std::vector<const std::string*>& values) const {
  return PreparedRows(execute(sql, values));
}

void PreparedStatement::prepare_on(soci::session& sql) const {
  PGconn* conn = native(sql);
  if (plan_ == Plan::per_run) return;
  const Preparation wanted = preparation(conn, name_);
  if (wanted == Preparation::ready) return;
  if (wanted == Preparation::again) {
    const std::string drop = "DEALLOCATE \"" + name_ + "\"";
    PGresult* dropped = PQexec(conn, drop.c_str());
    if (PQresultStatus(dropped) != PGRES_COMMAND_OK) throw_result_error(conn, dropped);
    PQclear(dropped);
    forget_prepared(conn, name_);  // should PREPARE fail now, the next run prepares it afresh
  }
  PGresult* made = PQprepare(conn, name_.c_str(), sql_.c_str(), 0, nullptr);
  if (PQresultStatus(made) != PGRES_COMMAND_OK) throw_result_error(conn, made);
  PQclear(made);
  remember_prepared(conn, name_);
}

namespace {

std::vector<const char*> c_strings(const std::vector<const std::string*>& values) {
  std::vector<const char*> params;
  params.reserve(values.size());
  for (const auto* v : values) params.push_back(v != nullptr ? v->c_str() : nullptr);
  return params;
}

bool succeeded(const PGresult* result) {
  const auto status = PQresultStatus(result);
  return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
}

}  // namespace

PGresult* PreparedStatement::execute(soci::session& sql,
                                     const std::vector<const std::string*>& values) const {
  prepare_on(sql);
  PGconn* conn = native(sql);
  const std::vector<const char*> params = c_strings(values);
  PGresult* result = plan_ == Plan::per_run
                         ? PQexecParams(conn, sql_.c_str(), static_cast<int>(params.size()),
                                        nullptr, params.data(), nullptr, nullptr, 0)
                         : PQexecPrepared(conn, name_.c_str(), static_cast<int>(params.size()),
                                          params.data(), nullptr, nullptr, 0);
  if (!succeeded(result)) throw_result_error(conn, result);
  return result;
}

namespace {

// The statement sent: the prepared one named `name`, or `text` planned for this run when `name`
// is null.
struct Sent {
  const char* name;
  const char* text;
};

Sent statement_of(PreparedStatement::Plan plan, const std::string& name, const std::string& sql) {
  return plan == PreparedStatement::Plan::per_run ? Sent{nullptr, sql.c_str()}
                                                  : Sent{name.c_str(), nullptr};
}

// Sends `before`, the statement and `after` (SQL without parameters; either may be null) in one
// pipeline, so in one round trip, and returns a result per query sent, in order (fewer when the
// connection broke). The rest of a pipeline after a failed query is skipped: its results say
// so (PGRES_PIPELINE_ABORTED).
std::vector<PGresult*> pipeline(PGconn* conn, const char* before, Sent statement,
                                const std::vector<const char*>& params, const char* after) {
  if (PQenterPipelineMode(conn) != 1) throw_result_error(conn, nullptr);
  bool sent = before == nullptr ||
              PQsendQueryParams(conn, before, 0, nullptr, nullptr, nullptr, nullptr, 0) == 1;
  const int count = static_cast<int>(params.size());
  sent = sent &&
         (statement.name != nullptr
              ? PQsendQueryPrepared(conn, statement.name, count, params.data(), nullptr, nullptr, 0)
              : PQsendQueryParams(conn, statement.text, count, nullptr, params.data(), nullptr,
                                  nullptr, 0)) == 1;
  sent = sent && (after == nullptr ||
                  PQsendQueryParams(conn, after, 0, nullptr, nullptr, nullptr, nullptr, 0) == 1);
  sent = sent && PQpipelineSync(conn) == 1;
  // Each query's result is followed by a null; the sync's result ends the pipeline. A lost
  // connection answers nothing but nulls (its status may still say OK): one null more than
  // there were queries ends the wait.
  const int queries = 1 + (before != nullptr ? 1 : 0) + (after != nullptr ? 1 : 0);
  std::vector<PGresult*> results;
  for (int ends = 0; sent;) {
    PGresult* r = PQgetResult(conn);
    if (r == nullptr) {
      if (PQstatus(conn) == CONNECTION_BAD || ++ends > queries) break;
      continue;
    }
    if (PQresultStatus(r) == PGRES_PIPELINE_SYNC) {
      PQclear(r);
      break;
    }
    results.push_back(r);
  }
  // A connection lost after every query answered leaves the pipeline unfinished: the answers
  // still stand (a COMMIT that succeeded did commit); the next use of the connection fails.
  const bool left = PQexitPipelineMode(conn) == 1;
  if (!sent || (!left && static_cast<int>(results.size()) < queries)) {
    PGresult* failed = nullptr;
    for (PGresult* r : results) {
      if (failed == nullptr && PQresultStatus(r) == PGRES_FATAL_ERROR) {
        failed = r;
      } else {
        PQclear(r);
      }
    }
    throw_result_error(conn, failed);
  }
  return results;
}

// The result at `keep` when all `expected` queries succeeded; otherwise throws the first failure
// (or the connection's error). Clears every other result.
PGresult* kept_result(PGconn* conn, std::vector<PGresult*>& results, std::size_t expected,
                      std::size_t keep) {
  PGresult* failed = nullptr;
  for (PGresult* r : results) {
    if (!succeeded(r)) {
      failed = r;
      break;
    }
  }
  if (failed == nullptr && results.size() == expected) {
    for (std::size_t i = 0; i < results.size(); ++i) {
      if (i != keep) PQclear(results[i]);
    }
    return results[keep];
  }
  for (PGresult* r : results) {
    if (r != failed) PQclear(r);
  }
  throw_result_error(conn, failed);
}

}  // namespace

PGresult* PreparedStatement::execute_first(Transaction& tx,
                                           const std::vector<const std::string*>& values) const {
  if (tx.open_) return execute(tx.sql_, values);
  prepare_on(tx.sql_);
  PGconn* conn = native(tx.sql_);
  // Open from here on, whatever the outcome: after a failure the rollback ends whatever BEGIN
  // may have started, or an aborted transaction the session was still in (outside of any, it
  // is a warning, nothing more).
  tx.open_ = true;
  std::vector<PGresult*> results =
      pipeline(conn, "BEGIN", statement_of(plan_, name_, sql_), c_strings(values), nullptr);
  return kept_result(conn, results, 2, 1);
}

PGresult* PreparedStatement::execute_last(Transaction& tx,
                                          const std::vector<const std::string*>& values) const {
  if (!tx.open_) throw std::logic_error("commit of a transaction no statement opened");
  prepare_on(tx.sql_);
  PGconn* conn = native(tx.sql_);
  std::vector<PGresult*> results =
      pipeline(conn, nullptr, statement_of(plan_, name_, sql_), c_strings(values), "COMMIT");
  // A failed statement leaves the transaction open (and aborted) for the rollback; once COMMIT
  // ran, whatever its outcome, the transaction has ended.
  tx.open_ = results.empty() || !succeeded(results.front());
  return kept_result(conn, results, 2, 0);
}

int PreparedStatement::run_first(Transaction& tx,
                                 const std::vector<const std::string*>& values) const {
  PGresult* result = execute_first(tx, values);
  const int rows = PQntuples(result);
  PQclear(result);
  return rows;
}

PreparedRows PreparedStatement::query_first(Transaction& tx,
                                            const std::vector<const std::string*>& values) const {
  return PreparedRows(execute_first(tx, values));
}

void PreparedStatement::run_committing(Transaction& tx,
                                       const std::vector<const std::string*>& values) const {
  PQclear(execute_last(tx, values));
}

PreparedRows PreparedStatement::query_committing(
    Transaction& tx, const std::vector<const std::string*>& values) const {
  return PreparedRows(execute_last(tx, values));
}

Transaction::~Transaction() {
  if (!open_) return;
  try {
    sql_.rollback();
  } catch (const std::exception& e) {
    spdlog::debug("rollback failed: {}", error_summary(e));
  }
}

void Transaction::commit() {
  if (!open_) throw std::logic_error("commit of a transaction no statement opened");
  open_ = false;
  sql_.commit();
}

void Transaction::rollback() {
  if (!open_) return;
  open_ = false;
  sql_.rollback();
}

void PreparedRows::Clear::operator()(PGresult* r) const {
  PQclear(r);
}

int PreparedRows::size() const {
  return PQntuples(result_.get());
}

bool PreparedRows::null(int row, int column) const {
  return PQgetisnull(result_.get(), row, column) != 0;
}

std::string PreparedRows::text(int row, int column) const {
  return std::string(PQgetvalue(result_.get(), row, column),
                     static_cast<std::size_t>(PQgetlength(result_.get(), row, column)));
}

long long PreparedRows::integer(int row, int column) const {
  if (null(row, column)) return 0;
  const char* begin = PQgetvalue(result_.get(), row, column);
  const char* end = begin + PQgetlength(result_.get(), row, column);
  if (end - begin == 1 && (*begin == 't' || *begin == 'f')) return *begin == 't' ? 1 : 0;
  long long value = 0;
  const auto [at, ec] = std::from_chars(begin, end, value);
  if (ec != std::errc{} || at != end) {
    throw std::invalid_argument("not an integer: " + std::string(begin, end));
  }
  return value;
}

std::string pg_text_array(const std::vector<std::string>& items) {
  std::string out = "{";
  for (const auto& item : items) {
    if (out.size() > 1) out += ',';
    out += '"';
    for (const char c : item) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  out += '}';
  return out;
}

std::string pg_int_array(const std::vector<long long>& items) {
  std::string out = "{";
  for (const long long item : items) {
    if (out.size() > 1) out += ',';
    out += std::to_string(item);
  }
  out += '}';
  return out;
}

}  // namespace bazaar::events
