#pragma once

#include <cstdint>
#include <string>
#include <utility>

namespace bazaar::payment {

/// What a provider answered to a charge.
enum class ChargeResult {
  approved,           ///< the money was taken
  declined,           ///< refused for good; `reason` says why
  no_answer,          ///< nothing came back in time; the order's deadline decides
  transient_failure,  ///< a temporary error; asking again may succeed
};

/// A provider's answer: declines and transient failures carry a reason.
struct ChargeOutcome {
  ChargeResult result = ChargeResult::no_answer;
  std::string reason;

  /// The money was taken.
  static ChargeOutcome approved() { return {ChargeResult::approved, {}}; }
  /// Refused for good because of `why`.
  static ChargeOutcome declined(std::string why) {
    return {ChargeResult::declined, std::move(why)};
  }
  /// Nothing came back.
  static ChargeOutcome no_answer() { return {ChargeResult::no_answer, {}}; }
  /// A temporary error described by `why`.
  static ChargeOutcome transient(std::string why) {
    return {ChargeResult::transient_failure, std::move(why)};
  }
};

/// A payment provider, seen from the payment service. Implementations must be thread-safe and
/// idempotent per order id, as real providers are with an idempotency key: asking again for an
/// order already approved answers approved without taking the money twice.
class PaymentProvider {
 public:
  virtual ~PaymentProvider() = default;
  /// Charges `amount` minor units of `currency` for `order_id` with the buyer's `token`.
  virtual ChargeOutcome charge(const std::string& order_id, std::int64_t amount,
                               const std::string& currency, const std::string& token) = 0;
};

}  // namespace bazaar::payment
