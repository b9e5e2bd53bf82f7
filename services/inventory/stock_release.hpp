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
/// its reservation to `status` in `reservations` (which holds it), emits StockReleased {released:
/// true} and notes each product's new level in `levels`. The caller holds the reservation's row
/// lock; the stock rows are locked through `stock` in product order (a no-op for rows the
/// transaction already holds), and written, like the levels emitted, when the caller flushes them.
void give_back(soci::session& sql, StockBook& stock, ReservationBook& reservations,
               LevelChanges& levels, const Emitter& out, const std::string& order_id,
               const std::vector<Line>& lines, ReleaseAction action, ReservationStatus status,
               const std::string& reason);

}  // namespace bazaar::inventory
