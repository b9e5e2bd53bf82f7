#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "stock_level.hpp"

namespace bazaar::inventory {

/// An AdjustStock command: set available to a value, or change it by a delta.
struct Adjustment {
  bool set = false;  ///< true: available becomes `amount`; false: it changes by it
  std::int64_t amount = 0;

  /// Available becomes `available`.
  static Adjustment set_to(std::int64_t available) { return {true, available}; }
  /// Available changes by `delta`.
  static Adjustment by(std::int64_t delta) { return {false, delta}; }
};

/// Who asked for an adjustment; both empty when the command did not say (a system actor).
struct Actor {
  std::string id;
  std::string role;
};

/// Why an adjustment was refused.
enum class AdjustRejection { unknown_product, negative_stock, forbidden, out_of_range, invalid };

/// The contract's name of a rejection (StockAdjustRejected's `reason`).
const char* to_string(AdjustRejection r);

/// A buyer may never adjust stock and a seller only their own product's; admins and
/// system actors may adjust any.
bool may_adjust(const Actor& actor, const std::string& seller_id);

/// The outcome of an adjustment: the new level, or why there is none.
struct AdjustOutcome {
  std::optional<StockLevel> level;
  AdjustRejection rejection = AdjustRejection::negative_stock;

  bool ok() const { return level.has_value(); }
};

/// Applies `a` to `s`: available moves to the new value and on_hand by the same amount, so
/// reserved and sold are untouched and the level stays conserved.
AdjustOutcome adjust(const StockLevel& s, const Adjustment& a);

}  // namespace bazaar::inventory
