#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "contracts/contracts.hpp"
#include "events/handler.hpp"
#include "orders/order_waiters.hpp"

namespace bazaar::edge {

/// The consumer group of the order projection.
inline constexpr const char* kOrderProjectionGroup = "edge-orders";

/// Keeps orders_view, its lines and steps, and payments_view up to date from order.events and
/// payment.events. The edge wrote each order's row when it was posted; events fill in the
/// captured prices, the saga's progress and the payment. A status never moves back: a late
/// or replayed event naming an earlier status leaves the view as it is (order_view's may_move).
class OrderProjection final : public events::DispatchHandler<OrderProjection> {
 public:
  /// `waiters` are woken once an order's settled status committed.
  explicit OrderProjection(OrderWaiters& waiters);
  /// The topics of kOrderProjectionGroup.
  static std::vector<std::string> topics();

 private:
  void placed(events::HandlerContext& ctx);
  /// OrderStatusChanged and the outcomes (OrderConfirmed, OrderRejected, OrderCancelled).
  void status(events::HandlerContext& ctx);
  void awaiting_payment(events::HandlerContext& ctx,
                        const contracts::order::OrderAwaitingPaymentV1& e);
  /// One answered charge attempt (an event without `attempt` is attempt 1).
  void record_attempt(events::HandlerContext& ctx, const std::string& order_id,
                      std::optional<std::int64_t> attempt, const std::string& outcome,
                      const std::string& reason);
  /// A refused admin refund (the order service's answer) marks it REFUSED.
  void command_rejected(events::HandlerContext& ctx,
                        const contracts::order::OrderCommandRejectedV1& e);
  void charged(events::HandlerContext& ctx, const contracts::payment::PaymentChargedV1& e);
  void declined(events::HandlerContext& ctx, const contracts::payment::PaymentDeclinedV1& e);
  void refunded(events::HandlerContext& ctx, const contracts::payment::PaymentRefundedV1& e);
  /// Once this transaction commits, requests waiting on `order_id` (Prefer: wait) wake.
  void wake_waiters(events::HandlerContext& ctx, const std::string& order_id);

  OrderWaiters& waiters_;
};

}  // namespace bazaar::edge
