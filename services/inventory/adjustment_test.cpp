#include "adjustment.hpp"

#include <doctest/doctest.h>

#include <limits>

using namespace bazaar::inventory;

namespace {
const StockLevel kLevel{.on_hand = 10, .available = 4, .reserved = 3, .sold = 3};
}

TEST_CASE("setting available moves on hand by the same amount") {
  const auto out = adjust(kLevel, Adjustment::set_to(9));
  REQUIRE(out.ok());
  CHECK(*out.level == StockLevel{.on_hand = 15, .available = 9, .reserved = 3, .sold = 3});
  const auto zero = adjust(kLevel, Adjustment::set_to(0));
  REQUIRE(zero.ok());
  CHECK(*zero.level == StockLevel{.on_hand = 6, .available = 0, .reserved = 3, .sold = 3});
}

TEST_CASE("a delta adds to available and on hand") {
  const auto up = adjust(kLevel, Adjustment::by(5));
  REQUIRE(up.ok());
  CHECK(*up.level == StockLevel{.on_hand = 15, .available = 9, .reserved = 3, .sold = 3});
  const auto down = adjust(kLevel, Adjustment::by(-4));
  REQUIRE(down.ok());
  CHECK(*down.level == StockLevel{.on_hand = 6, .available = 0, .reserved = 3, .sold = 3});
  CHECK(is_consistent(*down.level));
}

TEST_CASE("an adjustment below zero is refused as negative stock") {
  const auto out = adjust(kLevel, Adjustment::by(-5));
  CHECK_FALSE(out.ok());
  CHECK(out.rejection == AdjustRejection::negative_stock);
  CHECK(std::string(to_string(out.rejection)) == "negative_stock");
}

TEST_CASE("an adjustment that overflows is out of range") {
  const auto out = adjust(kLevel, Adjustment::by(std::numeric_limits<std::int64_t>::max()));
  CHECK_FALSE(out.ok());
  CHECK(out.rejection == AdjustRejection::out_of_range);
  const auto set = adjust(kLevel, Adjustment::set_to(std::numeric_limits<std::int64_t>::max()));
  CHECK(set.rejection == AdjustRejection::out_of_range);
}

TEST_CASE("only admins and the owning seller adjust stock") {
  const std::string seller = "0190f5c2-7a1b-7c3d-8e4f-123456789abc";
  CHECK_FALSE(may_adjust({"", ""}, seller));  // no actor: refused, never treated as admin
  CHECK_FALSE(may_adjust({seller, "operator"}, seller));
  CHECK(may_adjust({"0190f5c2-0000-7c3d-8e4f-123456789abc", "admin"}, seller));
  CHECK(may_adjust({seller, "seller"}, seller));
  CHECK_FALSE(may_adjust({"0190f5c2-0000-7c3d-8e4f-123456789abc", "seller"}, seller));
  CHECK_FALSE(may_adjust({"", "seller"}, ""));
  CHECK_FALSE(may_adjust({seller, "buyer"}, seller));
}
