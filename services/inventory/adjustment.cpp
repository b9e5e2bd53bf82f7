#include "adjustment.hpp"

namespace bazaar::inventory {

const char* to_string(AdjustRejection r) {
  switch (r) {
    case AdjustRejection::unknown_product:
      return "unknown_product";
    case AdjustRejection::negative_stock:
      return "negative_stock";
    case AdjustRejection::forbidden:
      return "forbidden";
    case AdjustRejection::out_of_range:
      return "out_of_range";
    case AdjustRejection::invalid:
      return "invalid";
  }
  return "unknown";
}

bool may_adjust(const Actor& actor, const std::string& seller_id) {
  // Allow-list: an admin, or the seller who owns the product; anyone else is refused.
  if (actor.role == "admin") return true;
  if (actor.role == "seller") return !actor.id.empty() && actor.id == seller_id;
  return false;
}

AdjustOutcome adjust(const StockLevel& s, const Adjustment& a) {
  std::int64_t available = 0;
  if (a.set) {
    available = a.amount;
  } else if (__builtin_add_overflow(s.available, a.amount, &available)) {
    return {.level = std::nullopt, .rejection = AdjustRejection::out_of_range};
  }
  if (available < 0) return {.level = std::nullopt, .rejection = AdjustRejection::negative_stock};
  StockLevel next = s;
  next.available = available;
  if (__builtin_add_overflow(available, s.reserved, &next.on_hand) ||
      __builtin_add_overflow(next.on_hand, s.sold, &next.on_hand)) {
    return {.level = std::nullopt, .rejection = AdjustRejection::out_of_range};
  }
  return {.level = next, .rejection = AdjustRejection::negative_stock};
}

}  // namespace bazaar::inventory
