#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "payment_provider.hpp"

namespace bazaar::payment {

/// Where an order's payment stands. VOIDED: a refund came while nothing was charged, so the
/// order may never be charged afterwards.
enum class PaymentStatus { pending, charged, declined, refunded, voided };

/// The stored name: PENDING, CHARGED, DECLINED, REFUNDED, VOIDED.
std::string_view to_string(PaymentStatus s);
/// The status of a stored name; nullopt for anything else.
std::optional<PaymentStatus> parse_status(std::string_view text);

/// What a ChargePayment does.
enum class ChargeStep {
  call_provider,     ///< nothing decided yet (new, or no answer before): ask the provider
  repeat_charged,    ///< PaymentCharged again with the same payment id, no second charge
  repeat_declined,   ///< PaymentDeclined again with the stored reason
  refuse_cancelled,  ///< refunded or voided first: PaymentDeclined (order_cancelled), no charge
};

/// Decides a ChargePayment of attempt `attempt` for an order whose payment is in `status`
/// (nullopt: none yet) as of attempt `last_attempt`. A decline is final for its own attempt
/// only: a later attempt asks the provider again. A charge is final for every attempt.
ChargeStep decide_charge(std::optional<PaymentStatus> status, int last_attempt = 1,
                         int attempt = 1);

/// The status a provider's answer leaves; nullopt for a transient failure, which changes
/// nothing (the charge is retried).
std::optional<PaymentStatus> status_after(ChargeResult result);

/// What a RefundPayment does. Compensation is never refused: at worst it refunds nothing.
struct RefundStep {
  PaymentStatus status = PaymentStatus::voided;  ///< the status afterwards
  std::int64_t refunded_total = 0;  ///< refunded_amount afterwards; PaymentRefunded reports it
  std::int64_t amount = 0;          ///< money given back by this step (0 for a repeat)
  bool refunds_now = false;         ///< this step gives money back
};

/// Decides a RefundPayment for a payment in `status` (nullopt: none) holding `charged` and
/// `refunded` minor units. A compensation (`amount` nullopt) gives back everything left, so
/// charged - refunded is 0 afterwards whatever the status was. An admin refund gives back
/// `amount`, never more than is left; the payment stays CHARGED until all of it is refunded.
RefundStep decide_refund(std::optional<PaymentStatus> status, std::int64_t charged,
                         std::int64_t refunded, std::optional<std::int64_t> amount = std::nullopt);

}  // namespace bazaar::payment
