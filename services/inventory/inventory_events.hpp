#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "contracts/contracts.hpp"
#include "events/handler.hpp"
#include "reservation.hpp"
#include "stock_level.hpp"

namespace bazaar::inventory {

namespace inv = contracts::inventory;

/// Adds inventory events to the outbox of the open transaction. Events caused by a consumed
/// event carry its correlation; those of a periodic task (no cause) name the order instead.
struct Emitter {
  events::OutboxWriter& outbox;
  const events::EnvelopeFactory& factory;
  const events::Envelope* cause = nullptr;

  /// Queues one event keyed by `subject`, correlated to `correlation` when given (the order
  /// of a released reservation), else to its cause.
  template <typename Payload>
  void emit(const std::string& subject, const Payload& payload,
            const std::string& correlation = {}) const {
    events::emit(outbox, factory, contracts::topic::kInventoryEvents, subject, payload, cause,
                 correlation);
  }
};

/// StockLevelChanged's payload.
inv::StockLevelChangedV1 stock_level_changed(const std::string& product_id,
                                             const StockLevel& level);
/// StockReleased's payload.
inv::StockReleasedV1 stock_released(const std::string& order_id, const std::string& reason,
                                    bool released);
/// StockReserved's payload.
inv::StockReservedV1 stock_reserved(const std::string& order_id, const std::vector<Line>& lines,
                                    const std::string& expires_at);
/// StockRejected's payload.
inv::StockRejectedV1 stock_rejected(const std::string& order_id, const ReservationDecision& d);
/// ReservationCommitFailed's payload.
inv::ReservationCommitFailedV1 commit_failed(const std::string& order_id, std::string_view reason);

}  // namespace bazaar::inventory
