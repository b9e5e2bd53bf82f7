#pragma once

#include <map>
#include <optional>
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

/// The StockLevelChanged events of one transaction: one per product, with the level the
/// transaction commits, caused by the last record that moved it. The levels a product passes
/// through inside one transaction are never committed, so no one could have read them: a batch
/// of reservations of one product used to send a level per reservation, each already replaced
/// by the next. An event emitted in place (a seller's adjustment, a new product) supersedes
/// what is pending for its product, and what moves it later is pending again.
class LevelChanges {
 public:
  /// `product_id` now stands at `level`, moved by the record `cause` (none for a periodic
  /// task), correlated to `correlation` when given, else to that record's; `factory` makes the
  /// event.
  void moved(const events::EnvelopeFactory& factory, const events::Envelope* cause,
             const std::string& product_id, const StockLevel& level,
             const std::string& correlation = {});
  /// moved() by the record `out` emits for.
  void moved(const Emitter& out, const std::string& product_id, const StockLevel& level,
             const std::string& correlation = {}) {
    moved(out.factory, out.cause, product_id, level, correlation);
  }
  /// Drops the pending event of `product_id`: one emitted in place carries a later level.
  void superseded(const std::string& product_id) { pending_.erase(product_id); }
  /// The pending events, in product id order, made now by the factory of the last move; and
  /// nothing is pending any more.
  std::vector<events::Envelope> take();
  /// take(), each added to `outbox`.
  void emit(events::OutboxWriter& outbox);
  /// Forgets what a rolled-back try left.
  void clear() { pending_.clear(); }

 private:
  struct Pending {
    StockLevel level;
    std::optional<events::Envelope> cause;  ///< its ids and trace only, not its payload
    std::string correlation;
  };
  std::map<std::string, Pending> pending_;
  const events::EnvelopeFactory* factory_ = nullptr;
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
