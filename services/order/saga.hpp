#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "order_status.hpp"

namespace bazaar::order {

/// What the saga remembers besides its status: which effects may exist and which
/// compensations are still unanswered.
struct Saga {
  Status status = Status::kPlaced;
  bool stock_held = false;        ///< a reservation exists (or may, after a timeout)
  bool charged = false;           ///< the payment service charged the order
  bool awaiting_release = false;  ///< ReleaseStock sent, StockReleased not yet seen
  bool awaiting_refund = false;   ///< RefundPayment sent, PaymentRefunded not yet seen
  std::string reason;             ///< why it is compensating, rejected or cancelled
};

/// Everything that can happen to a saga.
enum class Input {
  kPlace,  ///< PlaceOrder accepted with captured prices
  kStockReserved,
  kStockRejected,
  kPaymentCharged,
  kPaymentDeclined,
  kReservationCommitted,
  kReservationCommitFailed,
  kStockReleased,
  kPaymentRefunded,
  kDeadline,  ///< the current step's deadline passed
  kCancel,    ///< CancelOrder from the buyer or an admin
  kShip,      ///< AdvanceOrderStatus SHIPPED
  kDeliver,   ///< AdvanceOrderStatus DELIVERED
};

/// Commands the saga sends to other services.
enum class Command {
  kReserveStock,
  kChargePayment,
  kCommitReservation,
  kReleaseStock,
  kRefundPayment
};

/// Which deadline to set after the transition.
enum class Deadline { kNone, kStock, kPayment, kCompensation };

/// The outcome of one input: the new saga, the commands to send, the deadline to arm, and
/// whether the input was a valid request at all.
struct Decision {
  Saga saga;
  std::vector<Command> commands;
  Deadline deadline = Deadline::kNone;
  bool rejected = false;  ///< a command (cancel, ship) that is not allowed now
  std::string note;       ///< for the step log: what happened and why
};

/// The saga as a pure function: `(state, input) -> (state, commands)`. `saga` is empty for an
/// order this service does not know (a reply for an unknown order). `reason` qualifies the
/// input (the stock rejection's or a cancellation's reason).
Decision decide(const std::optional<Saga>& saga, Input input, std::string_view reason = {});

}  // namespace bazaar::order
