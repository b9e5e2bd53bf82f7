#pragma once

#include <string>
#include <utility>

#include "events/processor.hpp"
#include "events/uuid.hpp"
#include "payment_provider.hpp"

namespace bazaar::payment {

/// Applies ChargePayment and RefundPayment: idempotent per order, each outcome an event on
/// payment.events keyed by the order id.
class PaymentHandler final : public events::Handler {
 public:
  /// `ids` makes payment ids; `default_currency` is reported by a refund of an order that
  /// was never asked to be charged (PaymentRefunded requires a currency).
  PaymentHandler(PaymentProvider& provider, events::UuidV7Generator& ids,
                 std::string default_currency)
      : provider_(provider), ids_(ids), default_currency_(std::move(default_currency)) {}

  bool wants(const std::string& type) const override;
  void apply(events::HandlerContext& ctx) override;

 private:
  void charge(events::HandlerContext& ctx);
  void refund(events::HandlerContext& ctx);

  PaymentProvider& provider_;
  events::UuidV7Generator& ids_;
  std::string default_currency_;
};

}  // namespace bazaar::payment
