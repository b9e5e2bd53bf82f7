#pragma once

#include <string>
#include <utility>
#include <vector>

#include "contracts/contracts.hpp"
#include "events/handler.hpp"
#include "events/uuid.hpp"
#include "payment_book.hpp"
#include "payment_provider.hpp"

namespace bazaar::payment {

/// Applies ChargePayment and RefundPayment: idempotent per order, each outcome an event on
/// payment.events keyed by the order id.
class PaymentHandler final : public events::DispatchHandler<PaymentHandler> {
 public:
  /// `ids` makes payment ids; `default_currency` is reported by a refund of an order that
  /// was never asked to be charged (PaymentRefunded requires a currency).
  PaymentHandler(PaymentProvider& provider, events::UuidV7Generator& ids,
                 std::string default_currency)
      : provider_(provider), ids_(ids), default_currency_(std::move(default_currency)) {
    on(&PaymentHandler::charge);
    on(&PaymentHandler::refund);
  }

  /// Creates the payment rows a batch's commands need and reads and locks them all, in
  /// ascending order id, before its first record (PaymentBook).
  void lock_ahead(soci::session& sql, const std::vector<const events::Envelope*>& batch) override;
  void begin(soci::session& sql) override;
  /// Writes the payments the transaction changed.
  void before_commit(soci::session& sql, events::OutboxWriter& outbox) override;

 private:
  void charge(events::HandlerContext& ctx, const contracts::payment::ChargePaymentV1& cmd);
  void refund(events::HandlerContext& ctx, const contracts::payment::RefundPaymentV1& cmd);

  PaymentProvider& provider_;
  events::UuidV7Generator& ids_;
  std::string default_currency_;
  PaymentBook book_;  ///< the open transaction's payments
};

}  // namespace bazaar::payment
