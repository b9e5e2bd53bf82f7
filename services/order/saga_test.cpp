#include "saga.hpp"

#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <vector>

using namespace bazaar::order;
using C = Command;
using D = Deadline;
using I = Input;
using S = Status;

namespace {

// A saga in `status` of an order placed with a payment token.
Saga at(S status) {
  Saga s;
  s.status = status;
  s.has_token = true;
  return s;
}

// An order placed without a payment token (pay later).
Saga unpaid(S status) {
  Saga s;
  s.status = status;
  s.max_attempts = 3;
  return s;
}

// Waiting for the answer to charge attempt `attempt` of `max` (or, charged, for the commit).
Saga awaiting_payment(bool charged = false, int attempt = 1, int max = 1) {
  Saga s = at(S::kAwaitingPayment);
  s.stock_held = true;
  s.charged = charged;
  s.charging = !charged;
  s.attempts = attempt;
  s.max_attempts = max;
  return s;
}

// Holding the stock for the buyer, who has used `attempts` of `max` attempts.
Saga waiting_for_buyer(int attempts, int max = 3) {
  Saga s = unpaid(S::kAwaitingPayment);
  s.stock_held = true;
  s.attempts = attempts;
  s.max_attempts = max;
  return s;
}

Saga compensating(bool release, bool refund) {
  return Saga{.status = S::kCompensating,
              .stock_held = release,
              .charged = refund,
              .awaiting_release = release,
              .awaiting_refund = refund,
              .reason = "timeout"};
}

Saga confirmed() {
  return at(S::kConfirmed);
}

struct Row {
  const char* name;
  std::optional<Saga> from;
  Input input;
  S to;
  std::vector<Command> commands;
  Deadline deadline;
  bool rejected = false;
  const char* reason = "";
  int attempt = 0;  ///< the payment attempt a payment reply answers
};

// Every transition of DESIGN.md's saga, plus late, duplicate and unknown-order replies.
const std::vector<Row> kTable{
    {"place starts the reservation",
     at(S::kPlaced),
     I::kPlace,
     S::kAwaitingStock,
     {C::kReserveStock},
     D::kStock},
    {"stock reserved charges payment",
     at(S::kAwaitingStock),
     I::kStockReserved,
     S::kAwaitingPayment,
     {C::kChargePayment},
     D::kPayment},
    {"stock rejected rejects the order",
     at(S::kAwaitingStock),
     I::kStockRejected,
     S::kRejected,
     {},
     D::kNone,
     false,
     "out_of_stock"},
    {"no stock answer releases whatever may be reserved",
     at(S::kAwaitingStock),
     I::kDeadline,
     S::kCompensating,
     {C::kReleaseStock},
     D::kCompensation,
     false,
     "timeout"},
    {"cancel while reserving releases",
     at(S::kAwaitingStock),
     I::kCancel,
     S::kCompensating,
     {C::kReleaseStock},
     D::kCompensation,
     false,
     "cancelled"},
    {"payment charged commits the reservation",
     awaiting_payment(),
     I::kPaymentCharged,
     S::kAwaitingPayment,
     {C::kCommitReservation},
     D::kPayment},
    {"reservation committed confirms",
     awaiting_payment(true),
     I::kReservationCommitted,
     S::kConfirmed,
     {},
     D::kNone},
    {"payment declined releases stock only",
     awaiting_payment(),
     I::kPaymentDeclined,
     S::kCompensating,
     {C::kReleaseStock},
     D::kCompensation,
     false,
     "payment_declined"},
    {"payment timeout releases and refunds",
     awaiting_payment(),
     I::kDeadline,
     S::kCompensating,
     {C::kReleaseStock, C::kRefundPayment},
     D::kCompensation,
     false,
     "timeout"},
    {"commit timeout releases and refunds",
     awaiting_payment(true),
     I::kDeadline,
     S::kCompensating,
     {C::kReleaseStock, C::kRefundPayment},
     D::kCompensation,
     false,
     "timeout"},
    {"expired reservation refunds",
     awaiting_payment(true),
     I::kReservationCommitFailed,
     S::kCompensating,
     {C::kRefundPayment},
     D::kCompensation,
     false,
     "reservation_expired"},
    {"cancel while paying releases and refunds",
     awaiting_payment(),
     I::kCancel,
     S::kCompensating,
     {C::kReleaseStock, C::kRefundPayment},
     D::kCompensation,
     false,
     "cancelled"},
    {"release answered ends a release-only compensation",
     compensating(true, false),
     I::kStockReleased,
     S::kCancelled,
     {},
     D::kNone,
     false,
     "timeout"},
    {"release answered waits for the refund",
     compensating(true, true),
     I::kStockReleased,
     S::kCompensating,
     {},
     D::kCompensation},
    {"refund answered waits for the release",
     compensating(true, true),
     I::kPaymentRefunded,
     S::kCompensating,
     {},
     D::kCompensation},
    {"refund answered ends a refund-only compensation",
     compensating(false, true),
     I::kPaymentRefunded,
     S::kCancelled,
     {},
     D::kNone},
    {"unanswered compensations are sent again",
     compensating(true, true),
     I::kDeadline,
     S::kCompensating,
     {C::kReleaseStock, C::kRefundPayment},
     D::kCompensation},
    {"cancel after confirmation refunds and restocks",
     confirmed(),
     I::kCancel,
     S::kCompensating,
     {C::kReleaseStock, C::kRefundPayment},
     D::kCompensation,
     false,
     "refunded"},
    {"confirmed ships", confirmed(), I::kShip, S::kShipped, {}, D::kNone},
    {"shipped is delivered", at(S::kShipped), I::kDeliver, S::kDelivered, {}, D::kNone},
    // Late replies: an effect that arrives after the saga gave up is undone.
    {"late charge after timeout is refunded",
     at(S::kCancelled),
     I::kPaymentCharged,
     S::kCancelled,
     {C::kRefundPayment},
     D::kNone},
    {"late charge after rejection is refunded",
     at(S::kRejected),
     I::kPaymentCharged,
     S::kRejected,
     {C::kRefundPayment},
     D::kNone},
    {"late reservation after cancellation is released",
     at(S::kCancelled),
     I::kStockReserved,
     S::kCancelled,
     {C::kReleaseStock},
     D::kNone},
    {"late charge while compensating without refund refunds",
     compensating(true, false),
     I::kPaymentCharged,
     S::kCompensating,
     {C::kRefundPayment},
     D::kCompensation},
    {"late charge while a refund is on its way sends nothing",
     compensating(true, true),
     I::kPaymentCharged,
     S::kCompensating,
     {},
     D::kNone},
    {"late reservation while compensating releases",
     compensating(false, true),
     I::kStockReserved,
     S::kCompensating,
     {C::kReleaseStock},
     D::kCompensation},
    {"late decline after confirmation changes nothing",
     confirmed(),
     I::kPaymentDeclined,
     S::kConfirmed,
     {},
     D::kNone},
    // Duplicate replies change nothing.
    {"duplicate reservation while paying",
     awaiting_payment(),
     I::kStockReserved,
     S::kAwaitingPayment,
     {},
     D::kNone},
    {"duplicate charge while committing",
     awaiting_payment(true),
     I::kPaymentCharged,
     S::kAwaitingPayment,
     {},
     D::kNone},
    {"duplicate charge after confirmation",
     confirmed(),
     I::kPaymentCharged,
     S::kConfirmed,
     {},
     D::kNone},
    {"duplicate commit after confirmation",
     confirmed(),
     I::kReservationCommitted,
     S::kConfirmed,
     {},
     D::kNone},
    {"duplicate release after cancellation",
     at(S::kCancelled),
     I::kStockReleased,
     S::kCancelled,
     {},
     D::kNone},
    {"duplicate rejection after rejection",
     at(S::kRejected),
     I::kStockRejected,
     S::kRejected,
     {},
     D::kNone},
    {"commit before any charge is ignored",
     awaiting_payment(),
     I::kReservationCommitted,
     S::kAwaitingPayment,
     {},
     D::kNone},
    {"decline after a charge is ignored",
     awaiting_payment(true),
     I::kPaymentDeclined,
     S::kAwaitingPayment,
     {},
     D::kNone},
    {"a deadline after the outcome changes nothing",
     confirmed(),
     I::kDeadline,
     S::kConfirmed,
     {},
     D::kNone},
    // Commands that are not allowed now are rejected and change nothing.
    {"cancel a rejected order", at(S::kRejected), I::kCancel, S::kRejected, {}, D::kNone, true},
    {"cancel a cancelled order", at(S::kCancelled), I::kCancel, S::kCancelled, {}, D::kNone, true},
    {"cancel a shipped order", at(S::kShipped), I::kCancel, S::kShipped, {}, D::kNone, true},
    {"cancel while compensating",
     compensating(true, false),
     I::kCancel,
     S::kCompensating,
     {},
     D::kNone,
     true},
    {"ship an unconfirmed order",
     awaiting_payment(),
     I::kShip,
     S::kAwaitingPayment,
     {},
     D::kNone,
     true},
    {"ship an order still reserving",
     at(S::kAwaitingStock),
     I::kShip,
     S::kAwaitingStock,
     {},
     D::kNone,
     true},
    {"ship twice", at(S::kShipped), I::kShip, S::kShipped, {}, D::kNone, true},
    {"deliver a confirmed order", confirmed(), I::kDeliver, S::kConfirmed, {}, D::kNone, true},
    {"deliver twice", at(S::kDelivered), I::kDeliver, S::kDelivered, {}, D::kNone, true},
    // Paying later, and again after a decline.
    {"stock reserved without a token waits for the buyer",
     unpaid(S::kAwaitingStock),
     I::kStockReserved,
     S::kAwaitingPayment,
     {},
     D::kPaymentDue},
    {"a token given while reserving is kept for the charge",
     unpaid(S::kAwaitingStock),
     I::kPay,
     S::kAwaitingStock,
     {},
     D::kNone},
    {"a second token while reserving is refused",
     at(S::kAwaitingStock),
     I::kPay,
     S::kAwaitingStock,
     {},
     D::kNone,
     true},
    {"the buyer pays: the next attempt is charged",
     waiting_for_buyer(0),
     I::kPay,
     S::kAwaitingPayment,
     {C::kChargePayment},
     D::kPayment},
    {"a decline with attempts left waits for the buyer again",
     awaiting_payment(false, 1, 3),
     I::kPaymentDeclined,
     S::kAwaitingPayment,
     {},
     D::kPaymentDue,
     false,
     "",
     1},
    {"the last attempt declined releases the stock",
     awaiting_payment(false, 3, 3),
     I::kPaymentDeclined,
     S::kCompensating,
     {C::kReleaseStock},
     D::kCompensation,
     false,
     "payment_declined",
     3},
    {"a decline of an earlier attempt is ignored",
     awaiting_payment(false, 2, 3),
     I::kPaymentDeclined,
     S::kAwaitingPayment,
     {},
     D::kNone,
     false,
     "",
     1},
    {"a decline nobody waits for is ignored",
     waiting_for_buyer(1),
     I::kPaymentDeclined,
     S::kAwaitingPayment,
     {},
     D::kNone},
    {"paying while an attempt is in progress is refused",
     awaiting_payment(false, 1, 3),
     I::kPay,
     S::kAwaitingPayment,
     {},
     D::kNone,
     true},
    {"paying a paid order is refused",
     awaiting_payment(true),
     I::kPay,
     S::kAwaitingPayment,
     {},
     D::kNone,
     true},
    {"paying with no attempts left is refused",
     waiting_for_buyer(3, 3),
     I::kPay,
     S::kAwaitingPayment,
     {},
     D::kNone,
     true},
    {"the payment window closes: the stock is released, nothing to refund",
     waiting_for_buyer(1),
     I::kDeadline,
     S::kCompensating,
     {C::kReleaseStock},
     D::kCompensation,
     false,
     "payment_timeout"},
    {"cancel while waiting for the buyer releases only",
     waiting_for_buyer(1),
     I::kCancel,
     S::kCompensating,
     {C::kReleaseStock},
     D::kCompensation,
     false,
     "cancelled"},
    {"a late success of an earlier attempt is the order's payment",
     waiting_for_buyer(1),
     I::kPaymentCharged,
     S::kAwaitingPayment,
     {C::kCommitReservation},
     D::kPayment},
    {"paying a cancelled order is refused",
     at(S::kCancelled),
     I::kPay,
     S::kCancelled,
     {},
     D::kNone,
     true},
    {"paying a confirmed order is refused",
     confirmed(),
     I::kPay,
     S::kConfirmed,
     {},
     D::kNone,
     true},
    {"paying while compensating is refused",
     compensating(true, false),
     I::kPay,
     S::kCompensating,
     {},
     D::kNone,
     true},
    // Replies for orders this service never placed.
    {"unknown order charge is refunded",
     std::nullopt,
     I::kPaymentCharged,
     S::kRejected,
     {C::kRefundPayment},
     D::kNone},
    {"unknown order reservation is released",
     std::nullopt,
     I::kStockReserved,
     S::kRejected,
     {C::kReleaseStock},
     D::kNone},
    {"unknown order decline is ignored",
     std::nullopt,
     I::kPaymentDeclined,
     S::kRejected,
     {},
     D::kNone},
    {"unknown order payment is rejected", std::nullopt, I::kPay, S::kRejected, {}, D::kNone, true},
    {"unknown order cancel is rejected",
     std::nullopt,
     I::kCancel,
     S::kRejected,
     {},
     D::kNone,
     true},
};

}  // namespace

TEST_CASE("every saga transition follows the table") {
  for (const auto& row : kTable) {
    CAPTURE(row.name);
    const Decision d = decide(row.from, row.input, {}, row.attempt);
    CHECK(to_string(d.saga.status) == to_string(row.to));
    CHECK(d.commands == row.commands);
    CHECK(d.deadline == row.deadline);
    CHECK(d.rejected == row.rejected);
    if (*row.reason != '\0') CHECK(d.saga.reason == row.reason);
    CHECK_FALSE(d.note.empty());
  }
}

TEST_CASE("a cancellation carries its reason") {
  CHECK(decide(confirmed(), I::kCancel, "cancelled_by_admin").saga.reason == "cancelled_by_admin");
  CHECK(decide(at(S::kAwaitingStock), I::kStockRejected, "unknown_product").saga.reason ==
        "unknown_product");
}

TEST_CASE("a whole happy path ends confirmed with nothing held") {
  std::optional<Saga> s = at(S::kPlaced);
  for (Input i : {I::kPlace, I::kStockReserved, I::kPaymentCharged, I::kReservationCommitted}) {
    s = decide(s, i).saga;
  }
  CHECK(s->status == S::kConfirmed);
  CHECK_FALSE(s->stock_held);
  CHECK(s->charged);
}

TEST_CASE("a timed-out payment ends cancelled once both compensations are answered") {
  std::optional<Saga> s = at(S::kPlaced);
  for (Input i : {I::kPlace, I::kStockReserved, I::kDeadline, I::kPaymentRefunded}) {
    s = decide(s, i).saga;
  }
  CHECK(s->status == S::kCompensating);
  s = decide(s, I::kStockReleased).saga;
  CHECK(s->status == S::kCancelled);
  CHECK(s->reason == "timeout");
  CHECK_FALSE(s->awaiting_release);
  CHECK_FALSE(s->awaiting_refund);
}

TEST_CASE("pay later: a declined card, another one, and the order is confirmed") {
  std::optional<Saga> s = unpaid(S::kPlaced);
  Decision d = decide(s, I::kPlace);
  d = decide(d.saga, I::kStockReserved);
  CHECK(d.awaiting_buyer);
  CHECK(d.saga.stock_held);
  d = decide(d.saga, I::kPay);
  CHECK(d.commands == std::vector<Command>{C::kChargePayment});
  CHECK(d.saga.attempts == 1);
  d = decide(d.saga, I::kPaymentDeclined, "card_declined", 1);
  CHECK(d.awaiting_buyer);
  CHECK(d.saga.status == S::kAwaitingPayment);
  CHECK_FALSE(d.saga.has_token);
  d = decide(d.saga, I::kPay);
  CHECK(d.saga.attempts == 2);
  d = decide(d.saga, I::kPaymentCharged, {}, 2);
  d = decide(d.saga, I::kReservationCommitted);
  CHECK(d.saga.status == S::kConfirmed);
  CHECK(d.saga.charged);
  CHECK_FALSE(d.saga.stock_held);
}

TEST_CASE("at most max_attempts charges are ever sent, and never two at once") {
  // Whatever the buyer and the provider do, the saga charges one attempt at a time and stops
  // after the last: it never holds two outstanding charges.
  for (int max = 1; max <= 4; ++max) {
    Saga s = unpaid(S::kPlaced);
    s.max_attempts = max;
    s = decide(s, I::kPlace).saga;
    s = decide(s, I::kStockReserved).saga;
    int charges = 0;
    for (int round = 0; round < 10 && s.status == S::kAwaitingPayment; ++round) {
      Decision pay = decide(s, I::kPay);
      Decision again = decide(pay.saga, I::kPay);
      CHECK(again.rejected);
      charges += static_cast<int>(pay.commands.size());
      s = decide(pay.saga, I::kPaymentDeclined, "card_declined", pay.saga.attempts).saga;
    }
    CHECK(charges == max);
    CHECK(s.status == S::kCompensating);
    CHECK(s.reason == "payment_declined");
  }
}

TEST_CASE("status names round-trip and only three states end the saga") {
  for (S st : {S::kPlaced, S::kAwaitingStock, S::kAwaitingPayment, S::kCompensating, S::kConfirmed,
               S::kShipped, S::kDelivered, S::kRejected, S::kCancelled}) {
    CHECK(status_from_string(to_string(st)) == st);
  }
  CHECK_FALSE(status_from_string("LOST").has_value());
  CHECK(is_terminal(S::kRejected));
  CHECK(is_terminal(S::kCancelled));
  CHECK(is_terminal(S::kDelivered));
  CHECK_FALSE(is_terminal(S::kConfirmed));
}
