#include "http/rate_limiter.hpp"

#include <doctest/doctest.h>

using namespace bazaar;
using namespace bazaar::edge;

TEST_CASE("a client gets its burst and then its rate") {
  events::ManualClock clock;
  RateLimiter limiter(60, 3, clock);  // one a second, three at once
  CHECK(limiter.allow("a"));
  CHECK(limiter.allow("a"));
  CHECK(limiter.allow("a"));
  CHECK_FALSE(limiter.allow("a"));
  CHECK(limiter.retry_after_seconds("a") == 1);
  CHECK(limiter.allow("b"));  // another client has its own bucket
  clock.advance(std::chrono::milliseconds{1000});
  CHECK(limiter.allow("a"));
  CHECK_FALSE(limiter.allow("a"));
  clock.advance(std::chrono::seconds{60});
  for (int i = 0; i < 3; ++i) CHECK(limiter.allow("a"));  // refilled up to the burst only
  CHECK_FALSE(limiter.allow("a"));
}

TEST_CASE("many distinct clients cannot grow the limiter without bound") {
  events::ManualClock clock;
  RateLimiter limiter(60, 2, clock, 100);
  for (int i = 0; i < 1000; ++i) CHECK(limiter.allow("client-" + std::to_string(i)));
  CHECK(limiter.allow("client-999"));
  CHECK_FALSE(limiter.allow("client-999"));
}
