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
  bool has_token = false;         ///< the buyer gave a payment token (at placement or later)
  bool charging = false;          ///< ChargePayment of attempt `attempts` sent, not answered
  int attempts = 0;               ///< charges sent so far (attempt numbers 1..attempts)
  int max_attempts = 1;           ///< how many charges the buyer may try
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
  kPay,       ///< PayOrder: the buyer gives a payment token (pay later, or after a decline)
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

/// Which deadline to set after the transition. kPaymentDue: the end of the buyer's payment
/// window, fixed the first time the saga waits for the buyer and kept across attempts.
enum class Deadline { kNone, kStock, kPayment, kPaymentDue, kCompensation };

/// The outcome of one input: the new saga, the commands to send, the deadline to arm, and
/// whether the input was a valid request at all.
struct Decision {
  Saga saga;
  std::vector<Command> commands;
  Deadline deadline = Deadline::kNone;
  bool rejected = false;        ///< a command (cancel, ship) that is not allowed now
  bool awaiting_buyer = false;  ///< the saga now waits for the buyer to pay (OrderAwaitingPayment)
  std::string note;             ///< for the step log: what happened and why
};

/// The saga as a pure function: `(state, input) -> (state, commands)`. `saga` is empty for an
/// order this service does not know (a reply for an unknown order). `reason` qualifies the
/// input (the stock rejection's or a cancellation's reason); `attempt` is the payment attempt a
/// payment reply answers (0: not said, taken as the current one).
Decision decide(const std::optional<Saga>& saga, Input input, std::string_view reason = {},
                int attempt = 0);

}  // namespace bazaar::order
