#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

namespace soci {
class session;
class connection_pool;
}  // namespace soci

namespace bazaar::events {
class OutboxWriter;
class SchemaRegistry;
}  // namespace bazaar::events

namespace bazaar::edge {

/// A pool of connections to the edge's own database for request threads.
class EdgeDb {
 public:
  EdgeDb(const std::string& url, std::size_t size, const events::SchemaRegistry& schemas);
  ~EdgeDb();
  EdgeDb(const EdgeDb&) = delete;
  EdgeDb& operator=(const EdgeDb&) = delete;

  /// Runs `work` in one transaction with an outbox writer of that transaction: view rows and
  /// the commands or events they go with commit together (read-your-writes, no dual write).
  /// A connection that broke is reopened and the work tried once more; other errors propagate.
  void transact(const std::function<void(soci::session&, events::OutboxWriter&)>& work);
  /// Runs read-only `work` on a pooled connection.
  void read(const std::function<void(soci::session&)>& work);

 private:
  std::unique_ptr<soci::connection_pool> pool_;
  std::size_t size_;
  std::string conninfo_;
  const events::SchemaRegistry& schemas_;
};

}  // namespace bazaar::edge
