#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "stock_level.hpp"

namespace bazaar::inventory {

/// One line of an order to reserve.
struct Line {
  std::string product_id;
  std::int64_t quantity = 0;

  bool operator==(const Line&) const = default;
};

/// Sums the quantities of repeated products. The result is sorted by product id, which is
/// also the order stock rows are locked in, so two orders can never deadlock.
std::vector<Line> merge_lines(std::vector<Line> lines);

/// A line that cannot be reserved: `available` is 0 for an unknown product.
struct Shortage {
  std::string product_id;
  std::int64_t requested = 0;
  std::int64_t available = 0;

  bool operator==(const Shortage&) const = default;
};

/// Why an order could not be reserved.
enum class RejectReason { out_of_stock, unknown_product };

/// The contract's name of a reason.
const char* to_string(RejectReason r);

/// All or nothing: accepted when every line fits, else every line that does not.
struct ReservationDecision {
  RejectReason reason = RejectReason::out_of_stock;
  std::vector<Shortage> shortages;

  bool accepted() const { return shortages.empty(); }
};

/// Decides whether `merged` (from merge_lines) can be reserved from `levels`, which holds the
/// live products only: a product missing from it is unknown. An unknown product outweighs a
/// shortage as the reason; the shortages list every line that does not fit either way.
ReservationDecision decide_reservation(const std::vector<Line>& merged,
                                       const std::map<std::string, StockLevel>& levels);

}  // namespace bazaar::inventory
