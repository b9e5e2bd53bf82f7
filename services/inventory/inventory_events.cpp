#include "inventory_events.hpp"

namespace bazaar::inventory {

inv::StockLevelChangedV1 stock_level_changed(const std::string& product_id,
                                             const StockLevel& level) {
  return {.product_id = product_id,
          .on_hand = level.on_hand,
          .available = level.available,
          .reserved = level.reserved,
          .sold = level.sold};
}

inv::StockReleasedV1 stock_released(const std::string& order_id, const std::string& reason,
                                    bool released) {
  return {.order_id = order_id, .reason = reason, .released = released};
}

inv::StockReservedV1 stock_reserved(const std::string& order_id, const std::vector<Line>& lines,
                                    const std::string& expires_at) {
  inv::StockReservedV1 out{.order_id = order_id, .lines = {}, .expires_at = expires_at};
  for (const auto& line : lines) out.lines.push_back({line.product_id, line.quantity});
  return out;
}

inv::StockRejectedV1 stock_rejected(const std::string& order_id, const ReservationDecision& d) {
  inv::StockRejectedV1 out{
      .order_id = order_id, .reason = std::string(to_string(d.reason)), .shortages = {}};
  for (const auto& s : d.shortages) {
    out.shortages.push_back({s.product_id, s.requested, s.available});
  }
  return out;
}

inv::ReservationCommitFailedV1 commit_failed(const std::string& order_id, std::string_view reason) {
  return {.order_id = order_id, .reason = std::string(reason)};
}

}  // namespace bazaar::inventory
