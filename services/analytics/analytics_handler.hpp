#pragma once

#include "analytics_store.hpp"
#include "contracts/contracts.hpp"
#include "events/handler.hpp"

namespace bazaar::analytics {

/// Keeps the aggregates from every public *.events topic. An event about an order or a
/// product analytics has not seen is counted where it can be, never refused: analytics reads
/// the topics as they are and must not stop on them.
class AnalyticsHandler final : public events::DispatchHandler<AnalyticsHandler> {
 public:
  AnalyticsHandler();

 private:
  void begin(soci::session& sql) override;
  /// Reads and locks the orders and products of a batch up front, each in ascending id: the
  /// records then change them in the ledger, and no record of the batch locks a row of either
  /// later, in an order of its own.
  void lock_ahead(soci::session& sql, const std::vector<const events::Envelope*>& batch) override;
  void before_commit(soci::session& sql, events::OutboxWriter& outbox) override;
  AnalyticsStore store(const events::HandlerContext& ctx) { return {ctx.sql, tally_, ledger_}; }
  void outcome(const events::HandlerContext& ctx, const std::string& order_id,
               const std::string& status, const std::string& counter);

  void placed(events::HandlerContext& ctx, const contracts::order::OrderPlacedV1& e);
  void status_changed(events::HandlerContext& ctx, const contracts::order::OrderStatusChangedV1& e);
  void confirmed(events::HandlerContext& ctx, const contracts::order::OrderConfirmedV1& e);
  void rejected(events::HandlerContext& ctx, const contracts::order::OrderRejectedV1& e);
  void cancelled(events::HandlerContext& ctx, const contracts::order::OrderCancelledV1& e);
  void declined(events::HandlerContext& ctx, const contracts::payment::PaymentDeclinedV1& e);
  void refunded(events::HandlerContext& ctx, const contracts::payment::PaymentRefundedV1& e);
  void stock_rejected(events::HandlerContext& ctx, const contracts::inventory::StockRejectedV1& e);
  void stock_level(events::HandlerContext& ctx, const contracts::inventory::StockLevelChangedV1& e);
  void product_created(events::HandlerContext& ctx, const contracts::catalog::ProductCreatedV1& e);
  void product_updated(events::HandlerContext& ctx, const contracts::catalog::ProductUpdatedV1& e);
  void product_deleted(events::HandlerContext& ctx, const contracts::catalog::ProductDeletedV1& e);
  void user_registered(events::HandlerContext& ctx, const contracts::identity::UserRegisteredV1& e);
  void notification_created(events::HandlerContext& ctx,
                            const contracts::notification::NotificationCreatedV1& e);

  Tally tally_;    ///< of the open transaction
  Ledger ledger_;  ///< of the open transaction
};

/// The topics analytics reads: every *.events topic, never commands or identity.otp.
std::vector<std::string> analytics_topics();

}  // namespace bazaar::analytics
