#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "contracts/contracts.hpp"
#include "events/handler.hpp"
#include "saga_store.hpp"

namespace bazaar::order {

/// Applies order commands, saga replies and catalog prices: one transaction each, through
/// the saga's pure decision and the store.
class OrderHandler final : public events::DispatchHandler<OrderHandler> {
 public:
  /// `unknown_product_grace`: how long an order for a product not yet in the price projection
  /// is retried before it is rejected; PlaceOrder and catalog.events travel on different
  /// topics, so an order may overtake the event that lists its product.
  /// `payment_attempts`: how many charges the buyer of a new order may try.
  OrderHandler(const SagaStore& store, std::chrono::milliseconds unknown_product_grace,
               int payment_attempts);

  /// Reads and locks every order a batch names, and the prices of the products it orders,
  /// in one statement each (OrderBook).
  void lock_ahead(soci::session& sql, const std::vector<const events::Envelope*>& batch) override;
  void begin(soci::session& sql) override;
  /// Writes the orders and steps the transaction changed.
  void before_commit(soci::session& sql, events::OutboxWriter& outbox) override;

 private:
  void place(events::HandlerContext& ctx, const contracts::order::PlaceOrderV1& cmd);
  void cancel(events::HandlerContext& ctx, const contracts::order::CancelOrderV1& cmd);
  void pay(events::HandlerContext& ctx, const contracts::order::PayOrderV1& cmd);
  void refund(events::HandlerContext& ctx, const contracts::order::RefundOrderV1& cmd);
  void advance_status(events::HandlerContext& ctx,
                      const contracts::order::AdvanceOrderStatusV1& cmd);
  /// A command holding a value no column can hold: OrderCommandRejected naming it; no order is
  /// placed or changed.
  void reject_unstorable(events::HandlerContext& ctx, const events::UnstorableValue& value);
  void price_listed(events::HandlerContext& ctx, const contracts::catalog::ProductCreatedV1& e);
  void price_changed(events::HandlerContext& ctx, const contracts::catalog::ProductUpdatedV1& e);
  void price_removed(events::HandlerContext& ctx, const contracts::catalog::ProductDeletedV1& e);
  /// A saga reply (StockReserved, PaymentCharged, ...): its order id and optional reason.
  void reply(events::HandlerContext& ctx);
  void advance(events::HandlerContext& ctx, const std::string& order_id, Input input,
               const std::string& reason, int attempt = 0);
  /// Logs a command refused before the saga sees it and answers OrderCommandRejected.
  void refuse_command(events::HandlerContext& ctx, const OrderRecord& order,
                      const std::string& why);

  const SagaStore& store_;
  OrderBook book_;  ///< the open transaction's orders
  std::chrono::milliseconds unknown_product_grace_;
  int payment_attempts_;
};

}  // namespace bazaar::order
