#include "edge_db.hpp"

#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <spdlog/spdlog.h>

#include "events/db.hpp"
#include "events/outbox.hpp"
#include "http/problem.hpp"

namespace bazaar::edge {
namespace {

// How long a client should wait before trying again while the database is unreachable.
constexpr int kRetryAfterSeconds = 2;

// Makes a leased connection usable: opens it on first use (building the API and its route
// table needs no database) and reconnects one the server dropped. SOCI's open() refuses a
// session that has a backend, even a dead one, and its is_connected() pings the server and
// answers false for both: so the backend is inspected here instead.
void make_usable(soci::session& sql, const std::string& conninfo) {
  if (sql.get_backend() == nullptr) {
    sql.open(soci::postgresql, conninfo);
  } else if (!events::connection_ok(sql)) {
    sql.reconnect();
  } else {
    return;
  }
  events::identify_connection(sql);  // a new backend: name the process again
}

}  // namespace

EdgeDb::EdgeDb(const std::string& url, std::size_t size, const events::SchemaRegistry& schemas)
    : size_(size), conninfo_(events::to_conninfo(url)), schemas_(schemas) {}

EdgeDb::~EdgeDb() = default;

// SOCI's own pool is not used: a pooled session whose reconnect failed keeps a pointer to the
// backend it deleted. Plain sessions, leased from here, have no such state.
std::unique_ptr<soci::session> EdgeDb::lease() {
  std::unique_lock lock(mutex_);
  freed_.wait(lock, [this] { return !idle_.empty() || created_ < size_; });
  if (!idle_.empty()) {
    auto s = std::move(idle_.back());
    idle_.pop_back();
    return s;
  }
  ++created_;
  return std::make_unique<soci::session>();
}

EdgeDb::Lease::Lease(EdgeDb& db) : owner(db), session(db.lease()) {}
EdgeDb::Lease::~Lease() {
  owner.give_back(std::move(session));
}

void EdgeDb::give_back(std::unique_ptr<soci::session> s) {
  {
    std::lock_guard lock(mutex_);
    idle_.push_back(std::move(s));
  }
  freed_.notify_one();
}

void EdgeDb::transact(const std::function<void(soci::session&, events::OutboxWriter&)>& work) {
  run([&](soci::session& sql, bool& committing) {
    soci::transaction tx(sql);
    events::OutboxWriter outbox(sql, schemas_);
    work(sql, outbox);
    committing = true;
    outbox.commit(tx);
  });
}

void EdgeDb::transact_pipelined(
    const std::function<void(soci::session&, events::Transaction&, events::OutboxWriter&)>& work) {
  run([&](soci::session& sql, bool& committing) {
    events::Transaction tx(sql);
    events::OutboxWriter outbox(sql, schemas_, events::OutboxWriter::Write::at_flush);
    work(sql, tx, outbox);
    committing = true;
    outbox.commit(tx);
  });
}

void EdgeDb::read(const std::function<void(soci::session&)>& work) {
  run([&](soci::session& sql, bool&) { work(sql); });
}

bool EdgeDb::probe() {
  bool ok = false;
  read([&](soci::session& sql) {
    int one = 0;
    sql << "SELECT 1", soci::into(one);
    ok = one == 1;
  });
  return ok;
}

void EdgeDb::run(const std::function<void(soci::session&, bool&)>& work) {
  for (int attempt = 0;; ++attempt) {
    const Lease leased(*this);
    soci::session& sql = *leased.session;
    bool committing = false;
    try {
      make_usable(sql, conninfo_);
      work(sql, committing);
      return;
    } catch (const DependencyUnavailable&) {
      throw;
    } catch (const std::exception& e) {
      const bool alive = events::connection_answers(sql);
      if (events::classify(e, alive) == events::FailureKind::permanent) throw;
      // A connection the server dropped (restart, idle kill) is reopened and the work tried
      // once more, but never after COMMIT was sent: it may have succeeded, and doing the work
      // again would double it.
      if (attempt == 0 && !committing) continue;
      spdlog::warn("database unavailable: {}", events::error_summary(e));
      throw DependencyUnavailable("the database is unavailable", kRetryAfterSeconds);
    }
  }
}

}  // namespace bazaar::edge
