#pragma once

#include <string>

#include "events/processor.hpp"

namespace bazaar::edge {

/// The consumer group of the order projection.
inline constexpr const char* kOrderProjectionGroup = "edge-orders";

/// Keeps orders_view, its lines and steps, and payments_view up to date from order.events and
/// payment.events. The edge wrote each order's row when it was posted; events fill in the
/// captured prices, the saga's progress and the payment. A status never moves back: a late
/// or replayed event naming an earlier status leaves the view as it is (order_view's may_move).
class OrderProjection final : public events::Handler {
 public:
  bool wants(const std::string& type) const override;
  void apply(events::HandlerContext& ctx) override;

 private:
  void placed(events::HandlerContext& ctx, const std::string& at);
  void status(events::HandlerContext& ctx, const std::string& at);
  void payment(events::HandlerContext& ctx, const std::string& at);
};

}  // namespace bazaar::edge
