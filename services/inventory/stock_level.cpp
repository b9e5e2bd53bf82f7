#include "stock_level.hpp"

#include <stdexcept>
#include <string>

namespace bazaar::inventory {
namespace {

// Moves `quantity` units from one bucket to another of the same level.
StockLevel move(StockLevel s, std::int64_t StockLevel::*from, std::int64_t StockLevel::*to,
                std::int64_t quantity, const char* what) {
  if (quantity < 0 || s.*from < quantity) {
    throw std::logic_error(std::string(what) + ": cannot move " + std::to_string(quantity) +
                           " units out of " + std::to_string(s.*from));
  }
  s.*from -= quantity;
  s.*to += quantity;
  return s;
}

}  // namespace

bool is_consistent(const StockLevel& s) {
  return s.available >= 0 && s.reserved >= 0 && s.sold >= 0 &&
         s.on_hand == s.available + s.reserved + s.sold;
}

StockLevel initial_stock(std::int64_t quantity) {
  if (quantity < 0) throw std::logic_error("initial stock is negative");
  return StockLevel{.on_hand = quantity, .available = quantity, .reserved = 0, .sold = 0};
}

StockLevel reserve(const StockLevel& s, std::int64_t quantity) {
  return move(s, &StockLevel::available, &StockLevel::reserved, quantity, "reserve");
}

StockLevel release(const StockLevel& s, std::int64_t quantity) {
  return move(s, &StockLevel::reserved, &StockLevel::available, quantity, "release");
}

StockLevel commit(const StockLevel& s, std::int64_t quantity) {
  return move(s, &StockLevel::reserved, &StockLevel::sold, quantity, "commit");
}

StockLevel restock(const StockLevel& s, std::int64_t quantity) {
  return move(s, &StockLevel::sold, &StockLevel::available, quantity, "restock");
}

}  // namespace bazaar::inventory
