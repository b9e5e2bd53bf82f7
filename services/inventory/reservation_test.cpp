#include "reservation.hpp"

#include <doctest/doctest.h>

using namespace bazaar::inventory;

namespace {
const std::string kA = "00000000-0000-7000-8000-00000000000a";
const std::string kB = "00000000-0000-7000-8000-00000000000b";
const std::string kC = "00000000-0000-7000-8000-00000000000c";

StockLevel available(std::int64_t n) {
  return initial_stock(n);
}
}  // namespace

TEST_CASE("repeated products merge into one line and lines sort by product id") {
  const auto merged = merge_lines({{kC, 1}, {kA, 2}, {kC, 3}, {kB, 1}, {kA, 1}});
  CHECK(merged == std::vector<Line>{{kA, 3}, {kB, 1}, {kC, 4}});
}

TEST_CASE("an order that fits is accepted") {
  const auto d =
      decide_reservation(merge_lines({{kA, 2}, {kB, 5}}), {{kA, available(2)}, {kB, available(9)}});
  CHECK(d.accepted());
  CHECK(d.shortages.empty());
}

TEST_CASE("one short line rejects the whole order as out of stock") {
  const auto d =
      decide_reservation(merge_lines({{kA, 1}, {kB, 5}}), {{kA, available(9)}, {kB, available(4)}});
  CHECK_FALSE(d.accepted());
  CHECK(d.reason == RejectReason::out_of_stock);
  CHECK(d.shortages == std::vector<Shortage>{{kB, 5, 4}});
  CHECK(std::string(to_string(d.reason)) == "out_of_stock");
}

TEST_CASE("duplicates are checked by their sum") {
  const auto d = decide_reservation(merge_lines({{kA, 2}, {kA, 2}}), {{kA, available(3)}});
  CHECK_FALSE(d.accepted());
  CHECK(d.shortages == std::vector<Shortage>{{kA, 4, 3}});
}

TEST_CASE("an unknown product outweighs a shortage and both are listed") {
  const auto d = decide_reservation(merge_lines({{kC, 1}, {kA, 5}}), {{kA, available(1)}});
  CHECK_FALSE(d.accepted());
  CHECK(d.reason == RejectReason::unknown_product);
  CHECK(d.shortages == std::vector<Shortage>{{kA, 5, 1}, {kC, 1, 0}});
}

TEST_CASE("reserved units are not available to another order") {
  const StockLevel held = reserve(available(5), 4);
  const auto d = decide_reservation({{kA, 2}}, {{kA, held}});
  CHECK(d.shortages == std::vector<Shortage>{{kA, 2, 1}});
}
