#pragma once

#include <chrono>
#include <functional>

namespace bazaar::events {

/// How transient failures are retried: capped exponential delays with jitter below the cap.
struct BackoffPolicy {
  std::chrono::milliseconds initial{100};
  std::chrono::milliseconds max{10'000};
  double multiplier = 2.0;
  /// Share of each delay that is randomised away (0 = deterministic).
  double jitter = 0.2;
};

/// The delay schedule of one retried operation. Never gives up: transient failures are
/// retried until they succeed, because skipping would lose the message.
class Backoff {
 public:
  /// `unit_random` returns a value in [0, 1); nullptr means no jitter.
  explicit Backoff(BackoffPolicy policy, std::function<double()> unit_random = nullptr);
  /// The delay before the next attempt; each call moves one step along the schedule.
  std::chrono::milliseconds next();
  void reset() { attempt_ = 0; }
  int attempts() const { return attempt_; }

 private:
  BackoffPolicy policy_;
  std::function<double()> unit_random_;
  int attempt_ = 0;
};

}  // namespace bazaar::events
