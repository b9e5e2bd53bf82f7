#pragma once

#include <atomic>
#include <chrono>

namespace bazaar::events {

/// Wall-clock time, injected so tests move time instead of sleeping.
class Clock {
 public:
  using time_point = std::chrono::system_clock::time_point;
  virtual ~Clock() = default;
  virtual time_point now() const = 0;
};

/// The real clock.
class SystemClock final : public Clock {
 public:
  time_point now() const override { return std::chrono::system_clock::now(); }
};

/// A clock that moves only when told; safe to read from several threads.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(time_point start = time_point{std::chrono::seconds{1'700'000'000}})
      : now_(start.time_since_epoch().count()) {}
  time_point now() const override {
    return time_point{time_point::duration{now_.load(std::memory_order_acquire)}};
  }
  void advance(time_point::duration d) { now_.fetch_add(d.count(), std::memory_order_acq_rel); }
  void set(time_point t) { now_.store(t.time_since_epoch().count(), std::memory_order_release); }

 private:
  std::atomic<time_point::rep> now_;
};

}  // namespace bazaar::events
