#include "payment_state.hpp"

#include <doctest/doctest.h>

using namespace bazaar::payment;

TEST_CASE("statuses round trip through their stored names") {
  for (auto s : {PaymentStatus::pending, PaymentStatus::charged, PaymentStatus::declined,
                 PaymentStatus::refunded, PaymentStatus::voided}) {
    CHECK(parse_status(to_string(s)) == s);
  }
  CHECK_FALSE(parse_status("charged").has_value());
}

TEST_CASE("a new or unanswered charge asks the provider") {
  CHECK(decide_charge(std::nullopt) == ChargeStep::call_provider);
  CHECK(decide_charge(PaymentStatus::pending) == ChargeStep::call_provider);
}

TEST_CASE("a charge already decided repeats its outcome without a second charge") {
  CHECK(decide_charge(PaymentStatus::charged) == ChargeStep::repeat_charged);
  CHECK(decide_charge(PaymentStatus::declined) == ChargeStep::repeat_declined);
}

TEST_CASE("a charge after a refund or void is refused as cancelled") {
  CHECK(decide_charge(PaymentStatus::voided) == ChargeStep::refuse_cancelled);
  CHECK(decide_charge(PaymentStatus::refunded) == ChargeStep::refuse_cancelled);
}

TEST_CASE("provider answers map to payment statuses and a transient failure changes nothing") {
  CHECK(status_after(ChargeResult::approved) == PaymentStatus::charged);
  CHECK(status_after(ChargeResult::declined) == PaymentStatus::declined);
  CHECK(status_after(ChargeResult::no_answer) == PaymentStatus::pending);
  CHECK_FALSE(status_after(ChargeResult::transient_failure).has_value());
}

TEST_CASE("refunding a charge gives the whole amount back") {
  const auto step = decide_refund(PaymentStatus::charged, 1250, 0);
  CHECK(step.status == PaymentStatus::refunded);
  CHECK(step.refunded_total == 1250);
  CHECK(step.amount == 1250);
  CHECK(step.refunds_now);
}

TEST_CASE("refunding again reports the same amount and gives nothing more back") {
  const auto step = decide_refund(PaymentStatus::refunded, 1250, 1250);
  CHECK(step.status == PaymentStatus::refunded);
  CHECK(step.refunded_total == 1250);
  CHECK(step.amount == 0);
  CHECK_FALSE(step.refunds_now);
}

TEST_CASE("refunding an order with nothing charged voids it") {
  for (auto status :
       {std::optional<PaymentStatus>{}, std::optional(PaymentStatus::pending),
        std::optional(PaymentStatus::declined), std::optional(PaymentStatus::voided)}) {
    const auto step = decide_refund(status, 0, 0);
    CHECK(step.status == PaymentStatus::voided);
    CHECK(step.refunded_total == 0);
    CHECK_FALSE(step.refunds_now);
    CHECK(decide_charge(step.status) == ChargeStep::refuse_cancelled);
  }
}

TEST_CASE("after any refund charged minus refunded is zero") {
  for (auto status : {PaymentStatus::pending, PaymentStatus::charged, PaymentStatus::declined,
                      PaymentStatus::refunded, PaymentStatus::voided}) {
    const std::int64_t charged =
        status == PaymentStatus::charged || status == PaymentStatus::refunded ? 900 : 0;
    const std::int64_t refunded = status == PaymentStatus::refunded ? 900 : 0;
    const auto step = decide_refund(status, charged, refunded);
    CHECK(charged - step.refunded_total == 0);
  }
}

TEST_CASE("a decline is final for its own attempt only; a charge for every attempt") {
  CHECK(decide_charge(PaymentStatus::declined, 1, 2) == ChargeStep::call_provider);
  CHECK(decide_charge(PaymentStatus::declined, 2, 2) == ChargeStep::repeat_declined);
  CHECK(decide_charge(PaymentStatus::declined, 2, 1) == ChargeStep::repeat_declined);
  CHECK(decide_charge(PaymentStatus::charged, 1, 3) == ChargeStep::repeat_charged);
  CHECK(decide_charge(PaymentStatus::pending, 1, 2) == ChargeStep::call_provider);
  CHECK(decide_charge(PaymentStatus::voided, 1, 2) == ChargeStep::refuse_cancelled);
  CHECK(decide_charge(PaymentStatus::refunded, 1, 2) == ChargeStep::refuse_cancelled);
  CHECK(decide_charge(std::nullopt, 1, 2) == ChargeStep::call_provider);
}

TEST_CASE("an admin refund gives back part of a charge, never more than is left") {
  const auto first = decide_refund(PaymentStatus::charged, 1000, 0, 300);
  CHECK(first.refunds_now);
  CHECK(first.amount == 300);
  CHECK(first.refunded_total == 300);
  CHECK(first.status == PaymentStatus::charged);
  const auto rest = decide_refund(PaymentStatus::charged, 1000, 300, 700);
  CHECK(rest.amount == 700);
  CHECK(rest.status == PaymentStatus::refunded);
  const auto too_much = decide_refund(PaymentStatus::charged, 1000, 900, 500);
  CHECK(too_much.amount == 100);
  CHECK(too_much.refunded_total == 1000);
  const auto after = decide_refund(PaymentStatus::refunded, 1000, 1000, 5);
  CHECK_FALSE(after.refunds_now);
  CHECK(after.refunded_total == 1000);
  // A compensation after a partial refund gives back the rest.
  const auto compensation = decide_refund(PaymentStatus::charged, 1000, 300);
  CHECK(compensation.amount == 700);
  CHECK(compensation.status == PaymentStatus::refunded);
  // An admin refund of a payment never charged changes nothing; a compensation voids it.
  CHECK(decide_refund(PaymentStatus::declined, 0, 0, 100).status == PaymentStatus::declined);
  CHECK(decide_refund(PaymentStatus::declined, 0, 0).status == PaymentStatus::voided);
}
