#include "deadline_floor.hpp"

#include <doctest/doctest.h>

using namespace bazaar::order;
using namespace std::chrono_literals;

namespace {
const DeadlineFloor::time_point t0{std::chrono::seconds{1'700'000'000}};
}

TEST_CASE("the first deadline scan looks at every deadline") {
  const DeadlineFloor floor(5s, 1s);
  CHECK_FALSE(floor.from(t0).has_value());
}

TEST_CASE("after a scan that left nothing, the next starts a little before it") {
  DeadlineFloor floor(5s, 1s);
  floor.scanned(t0, std::nullopt, false);
  REQUIRE(floor.from(t0 + 250ms).has_value());
  CHECK(*floor.from(t0 + 250ms) == t0 - 1s);
  floor.scanned(t0 + 250ms, floor.from(t0 + 250ms), false);
  CHECK(*floor.from(t0 + 500ms) == t0 + 250ms - 1s);
}

TEST_CASE("a scan that took as many rows as it could is repeated from where it started") {
  DeadlineFloor floor(5s, 1s);
  floor.scanned(t0, std::nullopt, true);
  CHECK_FALSE(floor.from(t0 + 250ms).has_value());  // still everything
  floor.scanned(t0 + 250ms, std::nullopt, false);
  const auto from = floor.from(t0 + 500ms);
  REQUIRE(from.has_value());
  floor.scanned(t0 + 500ms, from, true);
  CHECK(floor.from(t0 + 750ms) == from);
}

TEST_CASE("every few seconds a scan looks at every deadline again") {
  DeadlineFloor floor(5s, 1s);
  floor.scanned(t0, std::nullopt, false);
  for (auto at = t0 + 250ms; at < t0 + 5s; at += 250ms) {
    REQUIRE(floor.from(at).has_value());
    floor.scanned(at, floor.from(at), false);
  }
  CHECK_FALSE(floor.from(t0 + 5s).has_value());
  floor.scanned(t0 + 5s, std::nullopt, false);
  CHECK(floor.from(t0 + 5250ms).has_value());
  CHECK_FALSE(floor.from(t0 + 10s).has_value());
}
