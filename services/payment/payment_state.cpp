#include "payment_state.hpp"

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
                         std::int64_t refunded) {
  if (status == PaymentStatus::charged) {
    return {.status = PaymentStatus::refunded,
            .refunded_total = charged,
            .amount = charged - refunded,
            .refunds_now = true};
  }
  if (status == PaymentStatus::refunded) {
    return {.status = PaymentStatus::refunded,
            .refunded_total = refunded,
            .amount = 0,
            .refunds_now = false};
  }
  return {.status = PaymentStatus::voided, .refunded_total = 0, .amount = 0, .refunds_now = false};
}

}  // namespace bazaar::payment
