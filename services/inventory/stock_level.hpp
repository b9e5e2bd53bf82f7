#pragma once

#include <cstdint>

namespace bazaar::inventory {

/// One product's stock. Conserved by every operation: on_hand = available + reserved + sold,
/// and none of them is ever negative.
struct StockLevel {
  std::int64_t on_hand = 0;
  std::int64_t available = 0;
  std::int64_t reserved = 0;
  std::int64_t sold = 0;

  bool operator==(const StockLevel&) const = default;
};

/// True when the level is conserved and nothing in it is negative.
bool is_consistent(const StockLevel& s);

/// A new product's stock: everything on hand is available.
StockLevel initial_stock(std::int64_t quantity);

// The moves below keep on_hand fixed and shift units between buckets. Each throws
// std::logic_error when the source bucket holds fewer than `quantity` units: callers decide
// first, so reaching it means a bug or a corrupted row, never a business outcome.

/// Available -> reserved (an order holds the units).
StockLevel reserve(const StockLevel& s, std::int64_t quantity);
/// Reserved -> available (a reservation is released or expires).
StockLevel release(const StockLevel& s, std::int64_t quantity);
/// Reserved -> sold (the order was paid).
StockLevel commit(const StockLevel& s, std::int64_t quantity);
/// Sold -> available (a confirmed order was cancelled; its units go back on the shelf).
StockLevel restock(const StockLevel& s, std::int64_t quantity);

}  // namespace bazaar::inventory
