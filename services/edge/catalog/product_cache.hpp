#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>

namespace prometheus {
class Counter;
}  // namespace prometheus

namespace bazaar::edge {

/// The answers of the product reads (`GET /products/{id}` and the listings) kept in memory,
/// forgotten whenever products_view changes, so a read never returns what a committed change
/// replaced. Three sources of change reach it: edge's own writers hold a Change around their
/// transaction (the API's product writes, the catalog projection), and a listener on the view's
/// change notifications forgets what other processes changed. Nothing is kept while no
/// listener stands behind it (watch()), and a read that raced a change is not kept.
class ProductCache {
 public:
  /// `max_bytes` bounds the bodies kept; when one more would exceed it, all are dropped.
  /// Answers found and not found are counted in `hits` and `misses` when given.
  explicit ProductCache(std::size_t max_bytes, prometheus::Counter* hits = nullptr,
                        prometheus::Counter* misses = nullptr);

  /// The body of product `id` (canonical UUID), when one is kept.
  std::optional<std::string> product(const std::string& id) const;
  /// The body of the listing whose statement is `key`, when one is kept.
  std::optional<std::string> listing(const std::string& key) const;

  /// Taken before the database read whose answer keep_*() may keep: the answer is kept only
  /// when no change began or ended between the ticket and the keep.
  struct Ticket {
    std::uint64_t generation = 0;
    bool valid = false;
  };
  Ticket ticket() const;
  void keep_product(const Ticket& ticket, const std::string& id, std::string body);
  void keep_listing(const Ticket& ticket, const std::string& key, std::string body);

  /// Held by a writer of products_view from before its transaction until after it ended
  /// (committed or not): while any is held nothing new is kept, and the product's answers and
  /// every listing are forgotten when it begins and again when it ends.
  class Change {
   public:
    Change(ProductCache& cache, std::string product_id);
    ~Change();
    Change(const Change&) = delete;
    Change& operator=(const Change&) = delete;

   private:
    ProductCache& cache_;
    std::string product_id_;
  };

  /// A change committed elsewhere: forgets product `id` (empty: every product) and every listing.
  void forget(const std::string& id);
  /// Whether changes are being watched (the listener is connected). Either way everything kept
  /// is dropped: what changed while nobody listened is unknown.
  void watch(bool watching);

  struct Stats {
    std::size_t entries = 0;
    std::size_t bytes = 0;
  };
  Stats stats() const;

 private:
  using Bodies = std::unordered_map<std::string, std::string>;
  std::optional<std::string> find(const Bodies& bodies, const std::string& key) const;
  void keep(const Ticket& ticket, Bodies& bodies, const std::string& key, std::string body);
  // Callers hold mutex_ exclusively.
  void drop(const std::string& id);
  void drop_all();

  mutable std::shared_mutex mutex_;
  Bodies products_;
  Bodies listings_;
  std::size_t bytes_ = 0;
  std::size_t max_bytes_;
  std::uint64_t generation_ = 0;
  int changing_ = 0;
  bool watching_ = false;
  prometheus::Counter* hits_;
  prometheus::Counter* misses_;
};

}  // namespace bazaar::edge
