#include "edge_db.hpp"

#include <soci/connection-pool.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include "events/db.hpp"
#include "events/outbox.hpp"

namespace bazaar::edge {
namespace {

bool broken(soci::session& sql) {
  auto* backend = static_cast<soci::postgresql_session_backend*>(sql.get_backend());
  return backend == nullptr || backend->conn_ == nullptr || PQstatus(backend->conn_) != CONNECTION_OK;
}

}  // namespace

EdgeDb::EdgeDb(const std::string& url, std::size_t size, const events::SchemaRegistry& schemas)
    : pool_(std::make_unique<soci::connection_pool>(size)),
      size_(size),
      conninfo_(events::to_conninfo(url)),
      schemas_(schemas) {
  for (std::size_t i = 0; i < size_; ++i) pool_->at(i).open(soci::postgresql, conninfo_);
}

EdgeDb::~EdgeDb() = default;

void EdgeDb::transact(const std::function<void(soci::session&, events::OutboxWriter&)>& work) {
  for (int attempt = 0;; ++attempt) {
    soci::session sql(*pool_);
    try {
      soci::transaction tx(sql);
      events::OutboxWriter outbox(sql, schemas_);
      work(sql, outbox);
      tx.commit();
      return;
    } catch (const std::exception&) {
      // A connection the database dropped (restart, idle kill) is reopened once.
      if (attempt == 0 && broken(sql)) {
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
      work(sql);
      return;
    } catch (const std::exception&) {
      if (attempt == 0 && broken(sql)) {
        sql.reconnect();
        continue;
      }
      throw;
    }
  }
}

}  // namespace bazaar::edge
