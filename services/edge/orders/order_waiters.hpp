#pragma once

#include <condition_variable>
#include <cstddef>
#include <map>
#include <mutex>
#include <string>

#include "events/clock.hpp"

namespace bazaar::edge {

/// Requests waiting for an order's answer (Prefer: wait), woken by the order projection once
/// it committed one: a settled status, or the order waiting for its buyer to pay. Each waiter holds
/// a request thread, so at most `capacity` wait at once (a share of the threads); beyond it a
/// request answers at once.
class OrderWaiters {
 public:
  /// `clock` decides deadlines; it is re-read at least every `recheck`, so a test's clock that
  /// jumps past a deadline ends the wait.
  OrderWaiters(const events::Clock& clock, std::size_t capacity,
               std::chrono::milliseconds recheck = std::chrono::milliseconds{100});

  /// A registration for one order, made before its status is read so that no outcome committed
  /// in between is missed. `admitted()` is false when every slot is taken.
  class Waiter {
   public:
    Waiter(OrderWaiters& owner, std::string order_id);
    ~Waiter();
    Waiter(const Waiter&) = delete;
    Waiter& operator=(const Waiter&) = delete;
    bool admitted() const { return admitted_; }
    /// Blocks until the order was answered or the clock reaches `deadline`; true when answered.
    bool wait_until(events::Clock::time_point deadline);

   private:
    OrderWaiters& owner_;
    std::string order_id_;
    bool admitted_ = false;
  };

  /// The projection committed an answer for `order_id` (see answers_wait()): its waiters wake.
  void answered(const std::string& order_id);
  /// How many requests wait now (metrics, tests).
  std::size_t waiting() const;

 private:
  struct Entry {
    int waiters = 0;
    bool answered = false;
  };

  const events::Clock& clock_;
  std::size_t capacity_;
  std::chrono::milliseconds recheck_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::string, Entry> orders_;
  std::size_t waiting_ = 0;
};

}  // namespace bazaar::edge
