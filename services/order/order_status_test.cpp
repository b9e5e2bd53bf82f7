#include "order_status.hpp"

#include <doctest/doctest.h>

#include "saga.hpp"

using namespace bazaar::order;

namespace {

constexpr Status kAll[] = {Status::kPlaced,       Status::kAwaitingStock, Status::kAwaitingPayment,
                           Status::kCompensating, Status::kConfirmed,     Status::kShipped,
                           Status::kDelivered,    Status::kRejected,      Status::kCancelled};

constexpr Input kInputs[] = {Input::kPlace,
                             Input::kStockReserved,
                             Input::kStockRejected,
                             Input::kPaymentCharged,
                             Input::kPaymentDeclined,
                             Input::kReservationCommitted,
                             Input::kReservationCommitFailed,
                             Input::kStockReleased,
                             Input::kPaymentRefunded,
                             Input::kDeadline,
                             Input::kCancel,
                             Input::kShip,
                             Input::kDeliver};

// A saga in `s` with the effects that state implies.
Saga in_state(Status s) {
  Saga saga;
  saga.status = s;
  saga.stock_held = s == Status::kAwaitingPayment || s == Status::kConfirmed ||
                    s == Status::kShipped || s == Status::kCompensating;
  saga.charged = s == Status::kConfirmed || s == Status::kShipped || s == Status::kDelivered;
  saga.awaiting_release = s == Status::kCompensating;
  return saga;
}

}  // namespace

TEST_CASE("the saga accepts a cancellation exactly where the shared rule says it may") {
  for (const Status s : kAll) {
    CAPTURE(to_string(s));
    CHECK(may_cancel(s) == !decide(in_state(s), Input::kCancel).rejected);
  }
}

TEST_CASE("shipping and delivery need the state the shared rule names") {
  for (const Status s : kAll) {
    // PLACED never outlives the transaction that places the order: the saga ignores inputs.
    if (s == Status::kPlaced) continue;
    CAPTURE(to_string(s));
    CHECK((advances_from(Status::kShipped) == s) == !decide(in_state(s), Input::kShip).rejected);
    CHECK((advances_from(Status::kDelivered) == s) ==
          !decide(in_state(s), Input::kDeliver).rejected);
  }
  CHECK_FALSE(advances_from(Status::kCancelled));
}

TEST_CASE("every step the saga takes is one the shared graph allows") {
  for (const Status s : kAll) {
    for (const Input input : kInputs) {
      const Status to = decide(in_state(s), input).saga.status;
      CAPTURE(to_string(s));
      CAPTURE(to_string(to));
      CHECK(may_follow(s, to));
    }
  }
  CHECK_FALSE(may_follow(Status::kConfirmed, Status::kAwaitingPayment));
  CHECK_FALSE(may_follow(Status::kCancelled, Status::kConfirmed));
}

TEST_CASE("outcomes, settled and terminal states") {
  CHECK(is_outcome(Status::kConfirmed));
  CHECK_FALSE(is_outcome(Status::kShipped));
  CHECK(is_settled(Status::kShipped));
  CHECK(is_settled(Status::kDelivered));
  CHECK_FALSE(is_settled(Status::kCompensating));
  CHECK(is_terminal(Status::kDelivered));
  CHECK_FALSE(is_terminal(Status::kConfirmed));
}

TEST_CASE("only an order before its outcome may be paid") {
  CHECK(may_pay(Status::kPlaced));
  CHECK(may_pay(Status::kAwaitingStock));
  CHECK(may_pay(Status::kAwaitingPayment));
  for (Status s : {Status::kCompensating, Status::kConfirmed, Status::kShipped, Status::kDelivered,
                   Status::kRejected, Status::kCancelled}) {
    CHECK_FALSE(may_pay(s));
  }
}
