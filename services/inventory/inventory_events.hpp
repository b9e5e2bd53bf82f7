#pragma once

#include <boost/json/object.hpp>
#include <string>
#include <vector>

#include "reservation.hpp"
#include "stock_level.hpp"

namespace bazaar::events {
class EnvelopeFactory;
class OutboxWriter;
struct Envelope;
}  // namespace bazaar::events

namespace bazaar::inventory {

/// The topic every inventory event goes to.
inline constexpr const char* kEventsTopic = "inventory.events";

/// Event types inventory consumes and produces.
namespace type {
inline constexpr const char* kProductCreated = "bazaar.catalog.ProductCreated.v1";
inline constexpr const char* kProductDeleted = "bazaar.catalog.ProductDeleted.v1";
inline constexpr const char* kReserveStock = "bazaar.inventory.ReserveStock.v1";
inline constexpr const char* kReleaseStock = "bazaar.inventory.ReleaseStock.v1";
inline constexpr const char* kCommitReservation = "bazaar.inventory.CommitReservation.v1";
inline constexpr const char* kAdjustStock = "bazaar.inventory.AdjustStock.v1";
inline constexpr const char* kStockReserved = "bazaar.inventory.StockReserved.v1";
inline constexpr const char* kStockRejected = "bazaar.inventory.StockRejected.v1";
inline constexpr const char* kStockReleased = "bazaar.inventory.StockReleased.v1";
inline constexpr const char* kReservationCommitted = "bazaar.inventory.ReservationCommitted.v1";
inline constexpr const char* kReservationCommitFailed =
    "bazaar.inventory.ReservationCommitFailed.v1";
inline constexpr const char* kStockAdjustRejected = "bazaar.inventory.StockAdjustRejected.v1";
inline constexpr const char* kStockLevelChanged = "bazaar.inventory.StockLevelChanged.v1";
}  // namespace type

/// Adds inventory events to the outbox of the open transaction. Events caused by a consumed
/// event carry its correlation; those of a periodic task (no cause) name the order instead.
struct Emitter {
  events::OutboxWriter& outbox;
  const events::EnvelopeFactory& factory;
  const events::Envelope* cause = nullptr;

  /// Queues one event keyed by `subject`; `correlation` is used only when there is no cause.
  void emit(const char* type, const std::string& subject, boost::json::object payload,
            const std::string& correlation = {}) const;
};

/// StockLevelChanged's payload.
boost::json::object stock_level_changed(const std::string& product_id, const StockLevel& level);
/// StockReleased's payload.
boost::json::object stock_released(const std::string& order_id, const std::string& reason,
                                   bool released);
/// StockReserved's payload.
boost::json::object stock_reserved(const std::string& order_id, const std::vector<Line>& lines,
                                   const std::string& expires_at);
/// StockRejected's payload.
boost::json::object stock_rejected(const std::string& order_id, const ReservationDecision& d);
/// A payload holding only the order id (ReservationCommitted).
boost::json::object order_only(const std::string& order_id);
/// ReservationCommitFailed's payload.
boost::json::object commit_failed(const std::string& order_id, std::string_view reason);

}  // namespace bazaar::inventory
