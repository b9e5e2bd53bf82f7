#include "orders/order_waiters.hpp"

namespace bazaar::edge {

OrderWaiters::OrderWaiters(const events::Clock& clock, std::size_t capacity,
                           std::chrono::milliseconds recheck)
    : clock_(clock), capacity_(capacity), recheck_(recheck) {}

OrderWaiters::Waiter::Waiter(OrderWaiters& owner, std::string order_id)
    : owner_(owner), order_id_(std::move(order_id)) {
  std::lock_guard lock(owner_.mutex_);
  if (owner_.waiting_ >= owner_.capacity_) return;
  admitted_ = true;
  ++owner_.waiting_;
  ++owner_.orders_[order_id_].waiters;
}

OrderWaiters::Waiter::~Waiter() {
  if (!admitted_) return;
  std::lock_guard lock(owner_.mutex_);
  --owner_.waiting_;
  const auto it = owner_.orders_.find(order_id_);
  if (it != owner_.orders_.end() && --it->second.waiters == 0) owner_.orders_.erase(it);
}

bool OrderWaiters::Waiter::wait_until(events::Clock::time_point deadline) {
  if (!admitted_) return false;
  std::unique_lock lock(owner_.mutex_);
  for (;;) {
    if (owner_.orders_[order_id_].answered) return true;
    if (owner_.clock_.now() >= deadline) return false;
    // Woken by answered(), or after `recheck` to look at the (injected) clock again.
    owner_.changed_.wait_for(lock, owner_.recheck_);
  }
}

void OrderWaiters::answered(const std::string& order_id) {
  {
    std::lock_guard lock(mutex_);
    const auto it = orders_.find(order_id);
    if (it == orders_.end()) return;  // nobody waits for it
    it->second.answered = true;
  }
  changed_.notify_all();
}

std::size_t OrderWaiters::waiting() const {
  std::lock_guard lock(mutex_);
  return waiting_;
}

}  // namespace bazaar::edge
