#include "pricing.hpp"

#include <doctest/doctest.h>

using namespace bazaar::order;

namespace {

const std::map<std::string, KnownProduct> kCatalog{
    {"tea", {.price = 450, .currency = "EUR", .seller_id = "s1", .deleted = false}},
    {"pot", {.price = 2999, .currency = "EUR", .seller_id = "s2", .deleted = false}},
    {"gone", {.price = 100, .currency = "EUR", .seller_id = "s1", .deleted = true}},
    {"usd", {.price = 100, .currency = "USD", .seller_id = "s3", .deleted = false}},
    {"gold",
     {.price = 4'000'000'000'000'000'000, .currency = "EUR", .seller_id = "s4", .deleted = false}},
};

}  // namespace

TEST_CASE("prices come from the projection and the total is their sum") {
  const Pricing p = price_order({{"tea", 3}, {"pot", 1}}, kCatalog);
  REQUIRE(p.rejection.empty());
  CHECK(p.total == 3 * 450 + 2999);
  CHECK(p.currency == "EUR");
  REQUIRE(p.lines.size() == 2);
  CHECK(p.lines[0].unit_price == 450);
  CHECK(p.lines[1].seller_id == "s2");
}

TEST_CASE("an order that cannot be priced says why") {
  CHECK(price_order({{"nope", 1}}, kCatalog).rejection == "unknown_product");
  CHECK(price_order({{"gone", 1}}, kCatalog).rejection == "unknown_product");
  CHECK(price_order({{"tea", 1}, {"usd", 1}}, kCatalog).rejection == "mixed_currency");
  CHECK(price_order({{"tea", 0}}, kCatalog).rejection == "invalid_quantity");
  CHECK(price_order({}, kCatalog).rejection == "invalid_quantity");
  CHECK(price_order({{"gold", 3}}, kCatalog).rejection == "total_too_large");
}

TEST_CASE("a total stays at most ten trillion in major units") {
  const std::map<std::string, KnownProduct> dear{
      {"max",
       {.price = 999'999'999'999'999, .currency = "EUR", .seller_id = "s", .deleted = false}},
      {"cent", {.price = 1, .currency = "EUR", .seller_id = "s", .deleted = false}}};
  const Pricing at_most = price_order({{"max", 1}, {"cent", 1}}, dear);
  REQUIRE(at_most.rejection.empty());
  CHECK(at_most.total == kMaxTotal);
  CHECK(price_order({{"max", 1}, {"cent", 2}}, dear).rejection == "total_too_large");
  CHECK(price_order({{"max", 901}}, dear).rejection == "total_too_large");
}
