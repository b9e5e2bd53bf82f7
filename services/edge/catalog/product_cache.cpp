#include "catalog/product_cache.hpp"

#include <prometheus/counter.h>

#include <mutex>
#include <utility>

namespace bazaar::edge {

ProductCache::ProductCache(std::size_t max_bytes, prometheus::Counter* hits,
                           prometheus::Counter* misses)
    : max_bytes_(max_bytes), hits_(hits), misses_(misses) {}

std::optional<std::string> ProductCache::find(const Bodies& bodies, const std::string& key) const {
  {
    const std::shared_lock lock(mutex_);
    const auto it = bodies.find(key);
    if (it != bodies.end()) {
      if (hits_ != nullptr) hits_->Increment();
      return it->second;
    }
  }
  if (misses_ != nullptr) misses_->Increment();
  return std::nullopt;
}

std::optional<std::string> ProductCache::product(const std::string& id) const {
  return find(products_, id);
}

std::optional<std::string> ProductCache::listing(const std::string& key) const {
  return find(listings_, key);
}

ProductCache::Ticket ProductCache::ticket() const {
  const std::shared_lock lock(mutex_);
  return Ticket{generation_, watching_ && changing_ == 0};
}

void ProductCache::keep(const Ticket& ticket, Bodies& bodies, const std::string& key,
                        std::string body) {
  const std::unique_lock lock(mutex_);
  // A change that began after the ticket may have committed before the read, or a read that
  // began before a commit may have seen the old row: either way the answer is not kept.
  if (!ticket.valid || !watching_ || changing_ != 0 || generation_ != ticket.generation) return;
  const std::size_t size = key.size() + body.size();
  if (size > max_bytes_) return;
  if (bytes_ + size > max_bytes_) drop_all();
  const auto [it, added] = bodies.try_emplace(key, std::move(body));
  if (added) bytes_ += size;
}

void ProductCache::keep_product(const Ticket& ticket, const std::string& id, std::string body) {
  keep(ticket, products_, id, std::move(body));
}

void ProductCache::keep_listing(const Ticket& ticket, const std::string& key, std::string body) {
  keep(ticket, listings_, key, std::move(body));
}

void ProductCache::drop(const std::string& id) {
  ++generation_;
  if (id.empty()) {
    drop_all();
    return;
  }
  if (const auto it = products_.find(id); it != products_.end()) {
    bytes_ -= it->first.size() + it->second.size();
    products_.erase(it);
  }
  // Any listing may hold the product, or may now hold it.
  for (const auto& [key, body] : listings_) bytes_ -= key.size() + body.size();
  listings_.clear();
}

void ProductCache::drop_all() {
  products_.clear();
  listings_.clear();
  bytes_ = 0;
}

ProductCache::Change::Change(ProductCache& cache, std::string product_id)
    : cache_(cache), product_id_(std::move(product_id)) {
  const std::unique_lock lock(cache_.mutex_);
  ++cache_.changing_;
  cache_.drop(product_id_);
}

ProductCache::Change::~Change() {
  const std::unique_lock lock(cache_.mutex_);
  cache_.drop(product_id_);
  --cache_.changing_;
}

void ProductCache::forget(const std::string& id) {
  const std::unique_lock lock(mutex_);
  drop(id);
}

void ProductCache::watch(bool watching) {
  const std::unique_lock lock(mutex_);
  ++generation_;
  drop_all();
  watching_ = watching;
}

ProductCache::Stats ProductCache::stats() const {
  const std::shared_lock lock(mutex_);
  return Stats{products_.size() + listings_.size(), bytes_};
}

}  // namespace bazaar::edge
