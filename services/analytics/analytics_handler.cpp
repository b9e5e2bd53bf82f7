#include "analytics_handler.hpp"

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "analytics_rules.hpp"
#include "analytics_store.hpp"
#include "events/envelope.hpp"
#include "events/fields.hpp"

namespace bazaar::analytics {
namespace {

// The event's own time (ce_time), as RFC 3339 for SQL and as its UTC day.
struct When {
  Moment at;
  std::string day;
};

When when(const events::HandlerContext& ctx) {
  const EventTime t = event_time(ctx.event.time, ctx.clock.now());
  return {{events::format_rfc3339(events::Clock::time_point{std::chrono::milliseconds{t.epoch_ms}}),
           t.epoch_ms},
          t.day};
}

}  // namespace

// The order's final outcome: its status and, for sagas, the end of their duration.
void AnalyticsHandler::outcome(const events::HandlerContext& ctx, const std::string& order_id,
                               const std::string& status, const std::string& counter) {
  AnalyticsStore st = store(ctx);
  st.order_status(order_id, status);
  st.order_outcome(order_id, when(ctx).at);
  st.count("conversion", counter);
}

void AnalyticsHandler::begin(soci::session& /*sql*/) {
  ledger_.clear();
  tally_.clear();
}

void AnalyticsHandler::lock_ahead(soci::session& sql,
                                  const std::vector<const events::Envelope*>& batch) {
  namespace order = contracts::order;
  static const std::set<std::string, std::less<>> kAboutAnOrder{
      order::OrderPlacedV1::kType,    order::OrderStatusChangedV1::kType,
      order::OrderConfirmedV1::kType, order::OrderRejectedV1::kType,
      order::OrderCancelledV1::kType, contracts::payment::PaymentRefundedV1::kType};
  // Every record that locks a product's row: its level, its name, its rejections.
  static const std::set<std::string, std::less<>> kAboutAProduct{
      contracts::inventory::StockLevelChangedV1::kType, contracts::catalog::ProductCreatedV1::kType,
      contracts::catalog::ProductUpdatedV1::kType};
  std::vector<std::string> orders;
  std::vector<std::string> products;
  for (const events::Envelope* e : batch) {
    const auto* data = e->data.if_object();
    if (data == nullptr) continue;
    if (kAboutAnOrder.contains(e->type)) {
      if (auto id = events::uuid_at(*data, "order_id")) orders.push_back(std::move(*id));
    } else if (kAboutAProduct.contains(e->type)) {
      if (auto id = events::uuid_at(*data, "product_id")) products.push_back(std::move(*id));
    } else if (e->type == contracts::inventory::StockRejectedV1::kType) {
      const auto* shortages = data->if_contains("shortages");
      if (shortages == nullptr || !shortages->is_array()) continue;
      for (const auto& s : shortages->get_array()) {
        if (!s.is_object()) continue;
        if (auto id = events::uuid_at(s.get_object(), "product_id")) {
          products.push_back(std::move(*id));
        }
      }
    }
  }
  ledger_.lock(sql, orders, products);
}

void AnalyticsHandler::before_commit(soci::session& sql, events::OutboxWriter& /*outbox*/) {
  ledger_.flush(sql);
  tally_.flush(sql);
}

std::vector<std::string> analytics_topics() {
  namespace topic = contracts::topic;
  return {topic::kIdentityEvents, topic::kCatalogEvents, topic::kInventoryEvents,
          topic::kPaymentEvents,  topic::kOrderEvents,   topic::kNotificationEvents};
}

AnalyticsHandler::AnalyticsHandler() {
  on(&AnalyticsHandler::placed);
  on(&AnalyticsHandler::status_changed);
  on(&AnalyticsHandler::confirmed);
  on(&AnalyticsHandler::rejected);
  on(&AnalyticsHandler::cancelled);
  on(&AnalyticsHandler::declined);
  on(&AnalyticsHandler::refunded);
  on(&AnalyticsHandler::stock_rejected);
  on(&AnalyticsHandler::stock_level);
  on(&AnalyticsHandler::product_created);
  on(&AnalyticsHandler::product_updated);
  on(&AnalyticsHandler::product_deleted);
  on(&AnalyticsHandler::user_registered);
  on(&AnalyticsHandler::notification_created);
}

void AnalyticsHandler::placed(events::HandlerContext& ctx,
                              const contracts::order::OrderPlacedV1& e) {
  store(ctx).order_status(e.order_id, "PLACED", when(ctx).at);
}

void AnalyticsHandler::status_changed(events::HandlerContext& ctx,
                                      const contracts::order::OrderStatusChangedV1& e) {
  store(ctx).order_status(e.order_id, e.status);
}

void AnalyticsHandler::confirmed(events::HandlerContext& ctx,
                                 const contracts::order::OrderConfirmedV1& e) {
  outcome(ctx, e.order_id, "CONFIRMED", "confirmed");
  AnalyticsStore st = store(ctx);
  if (!st.confirm(e.order_id, e.currency)) return;
  std::vector<SaleLine> lines;
  for (const auto& l : e.lines) {
    // Lines need not carry the name: the catalog's (when analytics saw it) stands in.
    std::string name = l.name.value_or("");
    if (name.empty()) name = st.product_name(l.product_id);
    lines.push_back(
        {l.product_id, l.seller_id, std::move(name), l.quantity, l.quantity * l.unit_price});
  }
  st.add_sale(e.order_id, when(ctx).day, e.currency, e.total, lines);
  for (Refund r : st.take_pending_refunds(e.order_id)) {
    r.amount = st.refund_increment(e.order_id, r.amount);
    st.add_refund(e.order_id, r);
  }
}

void AnalyticsHandler::rejected(events::HandlerContext& ctx,
                                const contracts::order::OrderRejectedV1& e) {
  outcome(ctx, e.order_id, "REJECTED", "rejected");
  store(ctx).count_failure("rejected", e.reason);
}

void AnalyticsHandler::cancelled(events::HandlerContext& ctx,
                                 const contracts::order::OrderCancelledV1& e) {
  outcome(ctx, e.order_id, "CANCELLED", "cancelled");
  store(ctx).count_failure("cancelled", e.reason);
}

void AnalyticsHandler::declined(events::HandlerContext& ctx,
                                const contracts::payment::PaymentDeclinedV1& e) {
  store(ctx).count_failure("declined", e.reason);
}

void AnalyticsHandler::refunded(events::HandlerContext& ctx,
                                const contracts::payment::PaymentRefundedV1& e) {
  AnalyticsStore st = store(ctx);
  Refund refund{when(ctx).day, e.amount, e.currency};
  if (st.is_confirmed(e.order_id)) {
    // A total: only what it adds to the totals counted before is a new refund.
    refund.amount = st.refund_increment(e.order_id, e.amount);
    st.add_refund(e.order_id, refund);
  } else {
    // Its confirmation may still be on its way (another topic); a refund of an order that
    // never confirmed is no refund of a sale and stays here uncounted.
    st.keep_pending_refund(ctx.event.id, e.order_id, refund);
  }
}

void AnalyticsHandler::stock_rejected(events::HandlerContext& ctx,
                                      const contracts::inventory::StockRejectedV1& e) {
  if (e.reason != "out_of_stock") return;
  AnalyticsStore st = store(ctx);
  st.count("stock_outs", "rejections");
  for (const auto& s : e.shortages) st.count_stock_rejection(s.product_id);
}

void AnalyticsHandler::stock_level(events::HandlerContext& ctx,
                                   const contracts::inventory::StockLevelChangedV1& e) {
  store(ctx).stock_level(e.product_id, e.available);
}

void AnalyticsHandler::product_created(events::HandlerContext& ctx,
                                       const contracts::catalog::ProductCreatedV1& e) {
  AnalyticsStore st = store(ctx);
  st.product(e.product_id, e.name, e.seller_id);
  st.count("activity", "products_created");
}

void AnalyticsHandler::product_updated(events::HandlerContext& ctx,
                                       const contracts::catalog::ProductUpdatedV1& e) {
  store(ctx).product(e.product_id, e.name, e.seller_id);
}

void AnalyticsHandler::product_deleted(events::HandlerContext& ctx,
                                       const contracts::catalog::ProductDeletedV1&) {
  store(ctx).count("activity", "products_deleted");
}

void AnalyticsHandler::user_registered(events::HandlerContext& ctx,
                                       const contracts::identity::UserRegisteredV1&) {
  store(ctx).count("activity", "users_registered");
}

void AnalyticsHandler::notification_created(events::HandlerContext& ctx,
                                            const contracts::notification::NotificationCreatedV1&) {
  store(ctx).count("activity", "notifications_created");
}

}  // namespace bazaar::analytics
