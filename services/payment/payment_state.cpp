#include "payment_state.hpp"

#include <algorithm>

namespace bazaar::payment {

std::string_view to_string(PaymentStatus s) {
  switch (s) {
    case PaymentStatus::pending:
      return "PENDING";
    case PaymentStatus::charged:
      return "CHARGED";
    case PaymentStatus::declined:
      return "DECLINED";
    case PaymentStatus::refunded:
      return "REFUNDED";
    case PaymentStatus::voided:
      return "VOIDED";
  }
  return "UNKNOWN";
}

std::optional<PaymentStatus> parse_status(std::string_view text) {
  for (auto s : {PaymentStatus::pending, PaymentStatus::charged, PaymentStatus::declined,
                 PaymentStatus::refunded, PaymentStatus::voided}) {
    if (to_string(s) == text) return s;
  }
  return std::nullopt;
}

ChargeStep decide_charge(std::optional<PaymentStatus> status, int last_attempt, int attempt) {
  if (!status) return ChargeStep::call_provider;
  switch (*status) {
    case PaymentStatus::pending:
      return ChargeStep::call_provider;
    case PaymentStatus::charged:
      return ChargeStep::repeat_charged;
    case PaymentStatus::declined:
      return attempt > last_attempt ? ChargeStep::call_provider : ChargeStep::repeat_declined;
    case PaymentStatus::refunded:
    case PaymentStatus::voided:
      return ChargeStep::refuse_cancelled;
  }
  return ChargeStep::refuse_cancelled;
}

std::optional<PaymentStatus> status_after(ChargeResult result) {
  switch (result) {
    case ChargeResult::approved:
      return PaymentStatus::charged;
    case ChargeResult::declined:
      return PaymentStatus::declined;
    case ChargeResult::no_answer:
      return PaymentStatus::pending;
    case ChargeResult::transient_failure:
      return std::nullopt;
  }
  return std::nullopt;
}

RefundStep decide_refund(std::optional<PaymentStatus> status, std::int64_t charged,
                         std::int64_t refunded, std::optional<std::int64_t> amount) {
  if (status == PaymentStatus::charged) {
    const std::int64_t rest = charged - refunded;
    const std::int64_t now = amount ? std::clamp<std::int64_t>(*amount, 0, rest) : rest;
    const std::int64_t total = refunded + now;
    return {.status = total >= charged ? PaymentStatus::refunded : PaymentStatus::charged,
            .refunded_total = total,
            .amount = now,
            .refunds_now = now > 0};
  }
  if (status == PaymentStatus::refunded || (amount && status)) {
    // Nothing left to give back; an admin refund of an uncharged payment changes nothing.
    return {.status = *status, .refunded_total = refunded, .amount = 0, .refunds_now = false};
  }
  return {.status = PaymentStatus::voided, .refunded_total = 0, .amount = 0, .refunds_now = false};
}

}  // namespace bazaar::payment
