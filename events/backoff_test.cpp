#include "events/backoff.hpp"

#include <doctest/doctest.h>

using bazaar::events::Backoff;
using bazaar::events::BackoffPolicy;
using std::chrono::milliseconds;

TEST_CASE("backoff doubles from the initial delay up to the cap") {
  Backoff b(
      {.initial = milliseconds{100}, .max = milliseconds{1000}, .multiplier = 2.0, .jitter = 0.2});
  const milliseconds expected[] = {milliseconds{100}, milliseconds{200},  milliseconds{400},
                                   milliseconds{800}, milliseconds{1000}, milliseconds{1000}};
  for (const auto e : expected) CHECK(b.next() == e);
  CHECK(b.attempts() == 6);
}

TEST_CASE("backoff never overflows however long it retries") {
  Backoff b({.initial = milliseconds{100}, .max = milliseconds{5000}});
  for (int i = 0; i < 500; ++i) {
    const auto d = b.next();
    CHECK(d > milliseconds{0});
    CHECK(d <= milliseconds{5000});
  }
}

TEST_CASE("jitter takes at most its share off each delay") {
  double r = 0.0;
  Backoff b({.initial = milliseconds{1000}, .max = milliseconds{1000}, .jitter = 0.5},
            [&r] { return r; });
  r = 0.0;
  CHECK(b.next() == milliseconds{1000});
  r = 0.999;
  CHECK(b.next() == milliseconds{500});
  r = 0.5;
  CHECK(b.next() == milliseconds{750});
}

TEST_CASE("reset starts the schedule again") {
  Backoff b({.initial = milliseconds{50}, .max = milliseconds{1000}});
  (void)b.next();
  (void)b.next();
  b.reset();
  CHECK(b.attempts() == 0);
  CHECK(b.next() == milliseconds{50});
}
