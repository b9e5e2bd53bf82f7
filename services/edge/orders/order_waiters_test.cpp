#include "orders/order_waiters.hpp"

#include <doctest/doctest.h>

#include <future>

using namespace bazaar::edge;
using namespace std::chrono_literals;

TEST_CASE("a waiter wakes when its order settles, not another's") {
  bazaar::events::ManualClock clock;
  OrderWaiters waiters(clock, 4, 5ms);
  OrderWaiters::Waiter waiter(waiters, "o-1");
  REQUIRE(waiter.admitted());
  auto woke = std::async(std::launch::async, [&] { return waiter.wait_until(clock.now() + 30s); });
  waiters.answered("o-2");
  CHECK(woke.wait_for(50ms) == std::future_status::timeout);
  waiters.answered("o-1");
  CHECK(woke.get());
}

TEST_CASE("an outcome that came before the wait began is not missed") {
  bazaar::events::ManualClock clock;
  OrderWaiters waiters(clock, 4, 5ms);
  OrderWaiters::Waiter waiter(waiters, "o-1");
  waiters.answered("o-1");  // committed between registration and the wait
  CHECK(waiter.wait_until(clock.now() + 30s));
}

TEST_CASE("the wait ends when the injected clock passes the deadline") {
  bazaar::events::ManualClock clock;
  OrderWaiters waiters(clock, 4, 5ms);
  OrderWaiters::Waiter waiter(waiters, "o-1");
  const auto deadline = clock.now() + 10s;
  auto woke = std::async(std::launch::async, [&] { return waiter.wait_until(deadline); });
  clock.advance(11s);
  CHECK_FALSE(woke.get());
}

TEST_CASE("no more waiters than the capacity, and slots come back") {
  bazaar::events::ManualClock clock;
  OrderWaiters waiters(clock, 2);
  {
    OrderWaiters::Waiter a(waiters, "o-1");
    OrderWaiters::Waiter b(waiters, "o-1");
    OrderWaiters::Waiter c(waiters, "o-2");
    CHECK(a.admitted());
    CHECK(b.admitted());
    CHECK_FALSE(c.admitted());
    CHECK_FALSE(c.wait_until(clock.now() + 10s));
    CHECK(waiters.waiting() == 2);
  }
  CHECK(waiters.waiting() == 0);
  OrderWaiters::Waiter d(waiters, "o-3");
  CHECK(d.admitted());
}
