#include "saga.hpp"

#include <string>
#include <utility>

namespace bazaar::order {
namespace {

Decision keep(const Saga& s, std::string note) {
  return Decision{.saga = s,
                  .commands = {},
                  .deadline = Deadline::kNone,
                  .rejected = false,
                  .note = std::move(note)};
}

Decision refuse(const Saga& s, std::string note) {
  Decision d = keep(s, std::move(note));
  d.rejected = true;
  return d;
}

// Sends every compensation that may be needed and waits for all of them to be answered.
// `maybe_charged`: a charge may exist that we never heard of (a payment timeout).
Decision compensate(Saga s, std::string reason, std::string note, bool maybe_charged) {
  Decision d{.saga = {},
             .commands = {},
             .deadline = Deadline::kCompensation,
             .rejected = false,
             .note = std::move(note)};
  if (s.stock_held) {
    d.commands.push_back(Command::kReleaseStock);
    s.awaiting_release = true;
  }
  if (s.charged || maybe_charged) {
    d.commands.push_back(Command::kRefundPayment);
    s.awaiting_refund = true;
  }
  s.reason = std::move(reason);
  s.status = Status::kCompensating;
  if (!s.awaiting_release && !s.awaiting_refund) {
    s.status = Status::kCancelled;
    d.deadline = Deadline::kNone;
  }
  d.saga = std::move(s);
  return d;
}

// A compensation was answered; the saga ends once every one has been.
Decision compensation_answered(Saga s, Input input) {
  if (input == Input::kStockReleased) {
    s.awaiting_release = false;
    s.stock_held = false;
  } else {
    s.awaiting_refund = false;
    s.charged = false;
  }
  if (s.awaiting_release || s.awaiting_refund) {
    Decision d = keep(s, "compensation answered; waiting for the other");
    d.deadline = Deadline::kCompensation;
    return d;
  }
  s.status = Status::kCancelled;
  return keep(s, "every compensation answered");
}

// Sends the next attempt of the charge and waits for its answer.
Decision start_charge(Saga s, std::string note) {
  s.status = Status::kAwaitingPayment;
  s.has_token = true;
  s.charging = true;
  ++s.attempts;
  Decision d = keep(s, std::move(note) + " (attempt " + std::to_string(s.attempts) + ")");
  d.commands.push_back(Command::kChargePayment);
  d.deadline = Deadline::kPayment;
  return d;
}

// Holds the stock and waits for the buyer to pay (again) until the payment window closes.
Decision await_buyer(Saga s, std::string note) {
  s.status = Status::kAwaitingPayment;
  s.has_token = false;  // a declined token is not tried again
  s.charging = false;
  Decision d = keep(s, std::move(note));
  d.deadline = Deadline::kPaymentDue;
  d.awaiting_buyer = true;
  return d;
}

// Replies that arrive when the saga no longer waits for them.
Decision late_reply(const Saga& s, Input input) {
  if (input == Input::kPaymentCharged) {
    Decision d = keep(s, "late PaymentCharged: refunding it");
    d.commands.push_back(Command::kRefundPayment);
    return d;
  }
  if (input == Input::kStockReserved) {
    Decision d = keep(s, "late StockReserved: releasing it");
    d.commands.push_back(Command::kReleaseStock);
    return d;
  }
  return keep(s, "reply ignored in this state");
}

Decision from_awaiting_stock(Saga s, Input input, std::string_view reason) {
  switch (input) {
    case Input::kStockReserved:
      s.stock_held = true;
      if (s.has_token) return start_charge(s, "stock reserved; charging payment");
      return await_buyer(s, "stock reserved; waiting for the buyer's payment");
    case Input::kPay:
      if (s.has_token) return refuse(s, "the order already has a payment token");
      s.has_token = true;
      return keep(s, "payment token kept until the stock is reserved");
    case Input::kStockRejected:
      s.status = Status::kRejected;
      s.reason = reason.empty() ? "out_of_stock" : std::string(reason);
      return keep(s, "stock rejected");
    case Input::kDeadline:
      // The reservation may have happened without our hearing of it: release to be sure.
      s.stock_held = true;
      return compensate(s, "timeout", "no stock answer before the deadline", false);
    case Input::kCancel:
      s.stock_held = true;
      return compensate(s, reason.empty() ? "cancelled" : std::string(reason),
                        "cancelled while reserving", false);
    case Input::kShip:
    case Input::kDeliver:
      return refuse(s, "only a confirmed order can ship");
    default:
      return late_reply(s, input);
  }
}

Decision from_awaiting_payment(Saga s, Input input, std::string_view reason, int attempt) {
  switch (input) {
    case Input::kPay:
      if (s.charged) return refuse(s, "the order is paid");
      if (s.charging) return refuse(s, "a payment attempt is in progress");
      if (s.attempts >= s.max_attempts) return refuse(s, "no payment attempts left");
      return start_charge(s, "the buyer paid; charging payment");
    case Input::kPaymentCharged:
      // Money taken by any attempt is the order's payment.
      if (s.charged) return keep(s, "duplicate PaymentCharged ignored");
      s.charged = true;
      s.charging = false;
      {
        Decision d = keep(s, "payment charged; committing the reservation");
        d.commands.push_back(Command::kCommitReservation);
        d.deadline = Deadline::kPayment;
        return d;
      }
    case Input::kPaymentDeclined:
      if (s.charged) return keep(s, "PaymentDeclined after a charge ignored");
      if (attempt != 0 && attempt != s.attempts) {
        return keep(s, "PaymentDeclined of an earlier attempt ignored");
      }
      if (!s.charging) return keep(s, "PaymentDeclined not awaited ignored");
      s.charging = false;
      if (s.attempts < s.max_attempts) {
        return await_buyer(s, "payment declined; the buyer may pay again");
      }
      return compensate(s, "payment_declined", "payment declined; releasing stock", false);
    case Input::kReservationCommitted:
      if (!s.charged) return keep(s, "ReservationCommitted before a charge ignored");
      s.status = Status::kConfirmed;
      s.stock_held = false;  // the stock is sold now, no longer held
      return keep(s, "reservation committed; order confirmed");
    case Input::kReservationCommitFailed:
      // The reservation expired: its stock is back already, only the charge is to undo.
      s.stock_held = false;
      return compensate(s, "reservation_expired", "reservation could not be committed", true);
    case Input::kDeadline:
      if (!s.charging && !s.charged) {
        return compensate(s, "payment_timeout", "the buyer did not pay before the deadline", false);
      }
      return compensate(s, "timeout", "no payment answer before the deadline", true);
    case Input::kCancel:
      return compensate(s, reason.empty() ? "cancelled" : std::string(reason),
                        "cancelled while paying", s.charging || s.charged);
    case Input::kStockReserved:
      return keep(s, "duplicate StockReserved ignored");
    case Input::kShip:
    case Input::kDeliver:
      return refuse(s, "only a confirmed order can ship");
    default:
      return keep(s, "reply ignored in this state");
  }
}

Decision from_compensating(Saga s, Input input) {
  switch (input) {
    case Input::kStockReleased:
      if (!s.awaiting_release) return keep(s, "StockReleased not awaited");
      return compensation_answered(s, input);
    case Input::kPaymentRefunded:
      if (!s.awaiting_refund) return keep(s, "PaymentRefunded not awaited");
      return compensation_answered(s, input);
    case Input::kPaymentCharged:
      // A charge we did not know of: the refund already sent covers it (refunds are per
      // order), but make sure one is on its way.
      if (s.awaiting_refund) return keep(s, "late PaymentCharged: refund already sent");
      s.awaiting_refund = true;
      {
        Decision d = keep(s, "late PaymentCharged: refunding it");
        d.commands.push_back(Command::kRefundPayment);
        d.deadline = Deadline::kCompensation;
        return d;
      }
    case Input::kStockReserved:
      if (s.awaiting_release) return keep(s, "late StockReserved: release already sent");
      s.awaiting_release = true;
      {
        Decision d = keep(s, "late StockReserved: releasing it");
        d.commands.push_back(Command::kReleaseStock);
        d.deadline = Deadline::kCompensation;
        return d;
      }
    case Input::kDeadline: {
      // Compensations cannot be rejected, only delayed: send again what is unanswered.
      Decision d = keep(s, "compensation unanswered; sending it again");
      if (s.awaiting_release) d.commands.push_back(Command::kReleaseStock);
      if (s.awaiting_refund) d.commands.push_back(Command::kRefundPayment);
      d.deadline = Deadline::kCompensation;
      return d;
    }
    case Input::kCancel:
    case Input::kShip:
    case Input::kDeliver:
    case Input::kPay:
      return refuse(s, "the order is being cancelled");
    default:
      return keep(s, "reply ignored while compensating");
  }
}

Decision from_outcome(Saga s, Input input, std::string_view reason) {
  switch (input) {
    case Input::kPay:
      return refuse(s, s.status == Status::kConfirmed || s.status == Status::kShipped ||
                               s.status == Status::kDelivered
                           ? "the order is paid"
                           : "the order does not await a payment");
    case Input::kCancel:
      if (s.status != Status::kConfirmed)
        return refuse(s, "only a confirmed order can be cancelled now");
      {
        // The stock is sold and the money taken: restock and refund.
        Saga c = s;
        c.stock_held = true;
        c.charged = true;
        return compensate(c, reason.empty() ? "refunded" : std::string(reason),
                          "cancelled after confirmation; refunding and restocking", true);
      }
    case Input::kShip:
      if (s.status != Status::kConfirmed) return refuse(s, "only a confirmed order can ship");
      s.status = Status::kShipped;
      return keep(s, "shipped");
    case Input::kDeliver:
      if (s.status != Status::kShipped) return refuse(s, "only a shipped order can be delivered");
      s.status = Status::kDelivered;
      return keep(s, "delivered");
    case Input::kPaymentCharged:
      if (s.status == Status::kConfirmed || s.status == Status::kShipped ||
          s.status == Status::kDelivered) {
        return keep(s, "duplicate PaymentCharged ignored");
      }
      return late_reply(s, input);
    case Input::kStockReserved:
      if (s.status == Status::kRejected || s.status == Status::kCancelled)
        return late_reply(s, input);
      return keep(s, "duplicate StockReserved ignored");
    default:
      return keep(s, "reply ignored in this state");
  }
}

}  // namespace

Decision decide(const std::optional<Saga>& saga, Input input, std::string_view reason,
                int attempt) {
  if (!saga) {
    // An order we never placed: undo any effect it claims, nothing else.
    Saga none;
    none.status = Status::kRejected;
    Decision d = keep(none, "reply for an unknown order");
    if (input == Input::kPaymentCharged) d.commands.push_back(Command::kRefundPayment);
    if (input == Input::kStockReserved) d.commands.push_back(Command::kReleaseStock);
    d.rejected = input == Input::kCancel || input == Input::kShip || input == Input::kDeliver ||
                 input == Input::kPay;
    return d;
  }
  const Saga& s = *saga;
  switch (s.status) {
    case Status::kPlaced:
      if (input == Input::kPlace) {
        Saga next = s;
        next.status = Status::kAwaitingStock;
        Decision d = keep(next, "placed; reserving stock");
        d.commands.push_back(Command::kReserveStock);
        d.deadline = Deadline::kStock;
        return d;
      }
      return keep(s, "input ignored before the saga started");
    case Status::kAwaitingStock:
      return from_awaiting_stock(s, input, reason);
    case Status::kAwaitingPayment:
      return from_awaiting_payment(s, input, reason, attempt);
    case Status::kCompensating:
      return from_compensating(s, input);
    case Status::kConfirmed:
    case Status::kShipped:
    case Status::kDelivered:
    case Status::kRejected:
    case Status::kCancelled:
      return from_outcome(s, input, reason);
  }
  return keep(s, "unreachable");
}

}  // namespace bazaar::order
