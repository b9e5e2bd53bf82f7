#include "stock_release.hpp"

#include <stdexcept>

#include "inventory_store.hpp"

namespace bazaar::inventory {

void give_back(soci::session& sql, StockBook& stock, ReservationBook& reservations,
               LevelChanges& levels, const Emitter& out, const std::string& order_id,
               const std::vector<Line>& lines, ReleaseAction action, ReservationStatus status,
               const std::string& reason) {
  std::vector<std::string> ids;
  for (const auto& line : lines) ids.push_back(line.product_id);
  auto rows = stock.lock(sql, ids);
  for (const auto& line : lines) {
    const auto it = rows.find(line.product_id);
    if (it == rows.end()) {
      throw std::logic_error("reservation " + order_id + " holds unknown product " +
                             line.product_id);
    }
    StockLevel& level = it->second.level;
    level = action == ReleaseAction::restock_sold ? restock(level, line.quantity)
                                                  : release(level, line.quantity);
    stock.save(line.product_id, level);
    levels.moved(out, line.product_id, level, order_id);
  }
  reservations.set_status(order_id, status, reason);
  out.emit(order_id, stock_released(order_id, reason, true), order_id);
}

}  // namespace bazaar::inventory
