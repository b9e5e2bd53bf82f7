#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <string>

#include "events/clock.hpp"

namespace bazaar::edge {

/// Token buckets per key (a client address): `burst` requests at once, then `per_minute`
/// a minute. Thread-safe; forgets idle keys so the map stays bounded.
class RateLimiter {
 public:
  RateLimiter(double per_minute, double burst, const events::Clock& clock,
              std::size_t max_keys = 100'000);
  /// Takes one request's token for `key`; false when the bucket is empty.
  bool allow(const std::string& key);
  /// Seconds until `key` has a token again (for Retry-After).
  int retry_after_seconds(const std::string& key);

 private:
  struct Bucket {
    double tokens;
    events::Clock::time_point updated;
  };
  Bucket& refill(const std::string& key, events::Clock::time_point now);

  double per_second_;
  double burst_;
  const events::Clock& clock_;
  std::size_t max_keys_;
  std::mutex mutex_;
  std::map<std::string, Bucket> buckets_;
};

}  // namespace bazaar::edge
