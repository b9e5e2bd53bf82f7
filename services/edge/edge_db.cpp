#include "edge_db.hpp"

#include <soci/connection-pool.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include "events/db.hpp"
#include "events/outbox.hpp"

namespace bazaar::edge {
namespace {

bool broken(soci::session& sql) {
  if (!sql.is_connected()) return true;
  auto* backend = static_cast<soci::postgresql_session_backend*>(sql.get_backend());
  return backend == nullptr || backend->conn_ == nullptr || PQstatus(backend->conn_) != CONNECTION_OK;
}

}  // namespace

EdgeDb::EdgeDb(const std::string& url, std::size_t size, const events::SchemaRegistry& schemas)
    : pool_(std::make_unique<soci::connection_pool>(size)),
      size_(size),
      conninfo_(events::to_conninfo(url)),
      schemas_(schemas) {}

// Connections open on first use, so building the API (and its route table) needs no database.
static void ensure_open(soci::session& sql, const std::string& conninfo) {
  if (!sql.is_connected()) sql.open(soci::postgresql, conninfo);
}

EdgeDb::~EdgeDb() = default;

void EdgeDb::transact(const std::function<void(soci::session&, events::OutboxWriter&)>& work) {
  for (int attempt = 0;; ++attempt) {
    soci::session sql(*pool_);
    bool committing = false;
    try {
      ensure_open(sql, conninfo_);
      soci::transaction tx(sql);
      events::OutboxWriter outbox(sql, schemas_);
      work(sql, outbox);
      committing = true;
      tx.commit();
      return;
    } catch (const std::exception&) {
      // A connection the database dropped (restart, idle kill) is reopened once, but never
      // after COMMIT was sent: it may have succeeded, and doing the work again would double it.
      if (attempt == 0 && !committing && sql.is_connected() && broken(sql)) {
        sql.reconnect();
        continue;
      }
      throw;
    }
  }
}

void EdgeDb::read(const std::function<void(soci::session&)>& work) {
  for (int attempt = 0;; ++attempt) {
    soci::session sql(*pool_);
    try {
      ensure_open(sql, conninfo_);
      work(sql);
      return;
    } catch (const std::exception&) {
      if (attempt == 0 && sql.is_connected() && broken(sql)) {
        sql.reconnect();
        continue;
      }
      throw;
    }
  }
}

}  // namespace bazaar::edge
