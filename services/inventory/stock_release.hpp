#pragma once

#include <string>
#include <vector>

#include "inventory_events.hpp"
#include "inventory_store.hpp"
#include "reservation.hpp"
#include "reservation_lifecycle.hpp"

namespace soci {
class session;
}

namespace bazaar::inventory {

/// Gives an order's units back to available, as `action` says (reserved or sold units), moves
/// its reservation to `status`, and emits StockReleased {released: true} then one
/// StockLevelChanged per product. The caller holds the reservation's row lock; the stock rows
/// are locked through `stock` in product order (a no-op for rows the transaction already
/// holds), and written when the caller flushes it.
void give_back(soci::session& sql, StockBook& stock, const Emitter& out,
               const std::string& order_id, const std::vector<Line>& lines, ReleaseAction action,
               ReservationStatus status, const std::string& reason);

}  // namespace bazaar::inventory
