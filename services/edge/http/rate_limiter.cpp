#include "http/rate_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace bazaar::edge {

RateLimiter::RateLimiter(double per_minute, double burst, const events::Clock& clock,
                         std::size_t max_keys)
    : per_second_(per_minute / 60.0), burst_(burst), clock_(clock), max_keys_(max_keys) {}

RateLimiter::Bucket& RateLimiter::refill(const std::string& key, events::Clock::time_point now) {
  if (buckets_.size() >= max_keys_ && !buckets_.contains(key)) {
    // A full bucket is the same as no bucket: dropping those bounds the memory a flood of
    // distinct addresses can take.
    std::erase_if(buckets_, [&](const auto& kv) {
      const double idle = std::chrono::duration<double>(now - kv.second.updated).count();
      return kv.second.tokens + idle * per_second_ >= burst_;
    });
    if (buckets_.size() >= max_keys_) buckets_.clear();
  }
  auto [it, fresh] = buckets_.try_emplace(key, Bucket{burst_, now});
  if (!fresh) {
    const double idle =
        std::max(0.0, std::chrono::duration<double>(now - it->second.updated).count());
    it->second.tokens = std::min(burst_, it->second.tokens + idle * per_second_);
    it->second.updated = now;
  }
  return it->second;
}

bool RateLimiter::allow(const std::string& key) {
  std::lock_guard lock(mutex_);
  Bucket& b = refill(key, clock_.now());
  if (b.tokens < 1.0) return false;
  b.tokens -= 1.0;
  return true;
}

int RateLimiter::retry_after_seconds(const std::string& key) {
  std::lock_guard lock(mutex_);
  const Bucket& b = refill(key, clock_.now());
  if (b.tokens >= 1.0 || per_second_ <= 0) return 0;
  return static_cast<int>(std::ceil((1.0 - b.tokens) / per_second_));
}

}  // namespace bazaar::edge
