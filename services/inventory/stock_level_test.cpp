#include "stock_level.hpp"

#include <doctest/doctest.h>

#include <stdexcept>

using namespace bazaar::inventory;

TEST_CASE("new stock is all available") {
  const StockLevel s = initial_stock(7);
  CHECK(s == StockLevel{.on_hand = 7, .available = 7, .reserved = 0, .sold = 0});
  CHECK(is_consistent(s));
  CHECK_THROWS_AS((void)initial_stock(-1), std::logic_error);
}

TEST_CASE("reserve then commit moves units from available through reserved to sold") {
  StockLevel s = initial_stock(10);
  s = reserve(s, 4);
  CHECK(s == StockLevel{.on_hand = 10, .available = 6, .reserved = 4, .sold = 0});
  s = commit(s, 3);
  CHECK(s == StockLevel{.on_hand = 10, .available = 6, .reserved = 1, .sold = 3});
  CHECK(is_consistent(s));
}

TEST_CASE("release gives reserved units back and restock gives sold units back") {
  StockLevel s = commit(reserve(initial_stock(5), 5), 2);
  s = release(s, 3);
  CHECK(s == StockLevel{.on_hand = 5, .available = 3, .reserved = 0, .sold = 2});
  s = restock(s, 2);
  CHECK(s == StockLevel{.on_hand = 5, .available = 5, .reserved = 0, .sold = 0});
}

TEST_CASE("no move takes more units than its source bucket holds") {
  const StockLevel s = reserve(initial_stock(3), 2);
  CHECK_THROWS_AS((void)reserve(s, 2), std::logic_error);
  CHECK_THROWS_AS((void)release(s, 3), std::logic_error);
  CHECK_THROWS_AS((void)commit(s, 3), std::logic_error);
  CHECK_THROWS_AS((void)restock(s, 1), std::logic_error);
  CHECK_THROWS_AS((void)reserve(s, -1), std::logic_error);
}

TEST_CASE("every sequence of moves keeps stock conserved") {
  StockLevel s = initial_stock(100);
  for (int i = 1; i <= 20; ++i) {
    s = reserve(s, i % 5 + 1);
    if (i % 3 == 0) s = commit(s, 1);
    if (i % 4 == 0) s = release(s, 1);
    if (i % 6 == 0 && s.sold > 0) s = restock(s, 1);
    CHECK(is_consistent(s));
    CHECK(s.on_hand == 100);
  }
}

TEST_CASE("a level that loses or gains units is not consistent") {
  CHECK_FALSE(is_consistent({.on_hand = 5, .available = 5, .reserved = 1, .sold = 0}));
  CHECK_FALSE(is_consistent({.on_hand = 0, .available = -1, .reserved = 1, .sold = 0}));
}
