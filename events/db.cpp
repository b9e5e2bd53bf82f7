#include "events/db.hpp"

#include <libpq-fe.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include <stdexcept>

namespace bazaar::events {
namespace {

PGconn* native(soci::session& s) {
  auto* backend = static_cast<soci::postgresql_session_backend*>(s.get_backend());
  return backend != nullptr ? backend->conn_ : nullptr;
}

// libpq takes the timeout as a URL parameter; a dead server must not hang a connect forever.
std::string with_timeout(const std::string& url) {
  if (url.find("connect_timeout=") != std::string::npos) return url;
  return url + (url.find('?') == std::string::npos ? "?" : "&") + "connect_timeout=5";
}

bool transient_sqlstate(const std::string& state) {
  if (state.size() != 5) return false;
  const std::string cls = state.substr(0, 2);
  // 08 connection, 40 serialization/deadlock, 53 resources, 57 operator intervention
  // (shutdown), 58 system error.
  return cls == "08" || cls == "40" || cls == "53" || cls == "57" || cls == "58";
}

}  // namespace

Database::Database(std::string url) : url_(with_timeout(url)) {}
Database::~Database() = default;

soci::session& Database::session() {
  if (!session_) {
    auto s = std::make_unique<soci::session>(soci::postgresql, url_);
    // NOTICEs go to stderr by default; they are never errors for us.
    PQsetNoticeProcessor(native(*s), [](void*, const char*) {}, nullptr);
    session_ = std::move(s);
  }
  return *session_;
}

void Database::reset() { session_.reset(); }

bool Database::connected() const {
  if (!session_) return false;
  PGconn* conn = native(*session_);
  return conn != nullptr && PQstatus(conn) == CONNECTION_OK;
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

FailureKind classify(const std::exception& error, const Database& db) {
  if (const auto* pg = dynamic_cast<const soci::postgresql_soci_error*>(&error)) {
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
  if (!db.connected()) return FailureKind::transient;
  return FailureKind::permanent;
}

bool database_reachable(const std::string& url) {
  PGconn* conn = PQconnectdb(with_timeout(url).c_str());
  const bool ok = PQstatus(conn) == CONNECTION_OK;
  PQfinish(conn);
  return ok;
}

}  // namespace bazaar::events
