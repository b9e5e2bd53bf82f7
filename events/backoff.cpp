#include "events/backoff.hpp"

#include <algorithm>
#include <cmath>

namespace bazaar::events {

Backoff::Backoff(BackoffPolicy policy, std::function<double()> unit_random)
    : policy_(policy), unit_random_(std::move(unit_random)) {}

std::chrono::milliseconds Backoff::next() {
  const double base = static_cast<double>(policy_.initial.count()) *
                      std::pow(policy_.multiplier, std::min(attempt_, 62));
  const double capped = std::min(base, static_cast<double>(policy_.max.count()));
  ++attempt_;
  const double r = unit_random_ ? std::clamp(unit_random_(), 0.0, 1.0) : 0.0;
  const double delay = capped * (1.0 - policy_.jitter * r);
  return std::chrono::milliseconds{static_cast<long long>(std::llround(delay))};
}

}  // namespace bazaar::events
