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

Saga at(S status) {
  Saga s;
  s.status = status;
  return s;
}

Saga awaiting_payment(bool charged = false) {
  Saga s = at(S::kAwaitingPayment);
  s.stock_held = true;
  s.charged = charged;
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
    const Decision d = decide(row.from, row.input);
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
