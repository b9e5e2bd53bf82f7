#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace soci {
class session;
}  // namespace soci

namespace bazaar::events {
class OutboxWriter;
class Transaction;
class SchemaRegistry;
}  // namespace bazaar::events

namespace bazaar::edge {

/// A pool of connections to the edge's own database for request threads. Connections open
/// on first use and reconnect after the server dropped them.
class EdgeDb {
 public:
  EdgeDb(const std::string& url, std::size_t size, const events::SchemaRegistry& schemas);
  ~EdgeDb();
  EdgeDb(const EdgeDb&) = delete;
  EdgeDb& operator=(const EdgeDb&) = delete;

  /// Runs `work` in one transaction with an outbox writer of that transaction: view rows and
  /// the commands or events they go with commit together (read-your-writes, no dual write).
  /// A connection that broke is reopened and the work tried once more; when the database
  /// stays unreachable, DependencyUnavailable (503) is thrown; other errors propagate.
  void transact(const std::function<void(soci::session&, events::OutboxWriter&)>& work);
  /// transact() in fewer round trips, for work that writes many rows: its first statement must
  /// open `tx` (PreparedStatement::run_first() or query_first(), which send BEGIN with it), and
  /// the outbox rows are inserted in one statement sent with the COMMIT.
  void transact_pipelined(
      const std::function<void(soci::session&, events::Transaction&, events::OutboxWriter&)>& work);
  /// Runs read-only `work` on a pooled connection, with the same reconnection as transact().
  void read(const std::function<void(soci::session&)>& work);
  /// Whether a pooled connection answers a query now (for readiness); repairs the one it used.
  bool probe();

 private:
  // A connection borrowed for one unit of work, given back however the work ends.
  struct Lease {
    explicit Lease(EdgeDb& db);
    ~Lease();
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    EdgeDb& owner;
    std::unique_ptr<soci::session> session;
  };

  void run(const std::function<void(soci::session&, bool&)>& work);
  std::unique_ptr<soci::session> lease();
  void give_back(std::unique_ptr<soci::session> s);

  std::mutex mutex_;
  std::condition_variable freed_;
  std::vector<std::unique_ptr<soci::session>> idle_;
  std::size_t created_ = 0;
  std::size_t size_;
  std::string conninfo_;
  const events::SchemaRegistry& schemas_;
};

}  // namespace bazaar::edge
