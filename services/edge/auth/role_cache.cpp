#include "auth/role_cache.hpp"

#include <prometheus/counter.h>

#include <mutex>
#include <utility>

namespace bazaar::edge {

RoleCache::RoleCache(std::size_t max_users, prometheus::Counter* hits, prometheus::Counter* misses)
    : max_users_(max_users), hits_(hits), misses_(misses) {}

std::optional<std::string> RoleCache::role(const std::string& user_id) const {
  std::optional<std::string> found;
  {
    const std::shared_lock lock(mutex_);
    if (const auto it = roles_.find(user_id); it != roles_.end()) found = it->second;
  }
  prometheus::Counter* counter = found ? hits_ : misses_;
  if (counter != nullptr) counter->Increment();
  return found;
}

RoleCache::Ticket RoleCache::ticket() const {
  const std::shared_lock lock(mutex_);
  return Ticket{generation_, watching_};
}

void RoleCache::keep(const Ticket& ticket, const std::string& user_id, std::string role) {
  const std::unique_lock lock(mutex_);
  // A change forgotten since the ticket may have committed after the read saw the old row.
  if (!ticket.valid || !watching_ || generation_ != ticket.generation || max_users_ == 0) return;
  if (roles_.size() >= max_users_ && !roles_.contains(user_id)) roles_.clear();
  roles_[user_id] = std::move(role);
}

void RoleCache::forget(const std::string& user_id) {
  const std::unique_lock lock(mutex_);
  ++generation_;
  if (user_id == "*") {
    roles_.clear();
  } else {
    roles_.erase(user_id);
  }
}

void RoleCache::watch(bool watching) {
  const std::unique_lock lock(mutex_);
  ++generation_;
  roles_.clear();
  watching_ = watching;
}

std::size_t RoleCache::size() const {
  const std::shared_lock lock(mutex_);
  return roles_.size();
}

}  // namespace bazaar::edge
