#include "order_handler.hpp"

#include <soci/soci.h>
#include <spdlog/spdlog.h>

#include <map>

#include "events/json_fields.hpp"
#include "events/outbox.hpp"

namespace bazaar::order {
namespace {

using events::required_int;
using events::required_string;
using events::string_or_empty;

constexpr const char* kUpsertPrice = R"sql(
INSERT INTO catalog_prices (product_id, seller_id, price, currency, deleted, updated_at)
VALUES (CAST(:id AS uuid), CAST(:seller AS uuid), :price, :currency, false, now())
ON CONFLICT (product_id) DO UPDATE
SET seller_id = EXCLUDED.seller_id, price = EXCLUDED.price, currency = EXCLUDED.currency,
    updated_at = now()
WHERE NOT catalog_prices.deleted)sql";

constexpr const char* kDeletePrice =
    "UPDATE catalog_prices SET deleted = true, updated_at = now() WHERE product_id = CAST(:id AS uuid)";

constexpr const char* kLookupPrice = R"sql(
SELECT price, currency, seller_id::text, deleted::int FROM catalog_prices
WHERE product_id = CAST(:id AS uuid))sql";

// Replies and commands that drive a saga, by type.
const std::map<std::string, Input, std::less<>> kInputs{
    {"bazaar.inventory.StockReserved.v1", Input::kStockReserved},
    {"bazaar.inventory.StockRejected.v1", Input::kStockRejected},
    {"bazaar.inventory.ReservationCommitted.v1", Input::kReservationCommitted},
    {"bazaar.inventory.ReservationCommitFailed.v1", Input::kReservationCommitFailed},
    {"bazaar.inventory.StockReleased.v1", Input::kStockReleased},
    {"bazaar.payment.PaymentCharged.v1", Input::kPaymentCharged},
    {"bazaar.payment.PaymentDeclined.v1", Input::kPaymentDeclined},
    {"bazaar.payment.PaymentRefunded.v1", Input::kPaymentRefunded},
    {"bazaar.order.CancelOrder.v1", Input::kCancel},
};

constexpr const char* kPlaceOrder = "bazaar.order.PlaceOrder.v1";
constexpr const char* kAdvance = "bazaar.order.AdvanceOrderStatus.v1";

}  // namespace

bool OrderHandler::wants(const std::string& type) const {
  return kInputs.contains(type) || type == kPlaceOrder || type == kAdvance ||
         type == "bazaar.catalog.ProductCreated.v1" || type == "bazaar.catalog.ProductUpdated.v1" ||
         type == "bazaar.catalog.ProductDeleted.v1";
}

void OrderHandler::apply(events::HandlerContext& ctx) {
  const std::string& type = ctx.event.type;
  const auto& data = ctx.event.data.as_object();
  if (type.rfind("bazaar.catalog.", 0) == 0) return project_price(ctx);
  if (type == kPlaceOrder) return place(ctx);
  if (type == kAdvance) {
    const std::string status = string_or_empty(data, "status");
    return advance(ctx, status == "SHIPPED" ? Input::kShip : Input::kDeliver, {});
  }
  const Input input = kInputs.find(type)->second;
  std::string reason = string_or_empty(data, "reason");
  if (input == Input::kCancel) {
    // Allow-list: an admin cancels any order, a buyer only their own; anyone else is refused.
    const std::string role = string_or_empty(data, "actor_role");
    auto order = store_.load_for_update(ctx.sql, required_string(data, "order_id"));
    const bool allowed =
        role == "admin" ||
        (role == "buyer" && order && order->buyer_id == string_or_empty(data, "actor_id"));
    if (order && !allowed) {
      Decision refused{.saga = order->saga, .commands = {}, .deadline = Deadline::kNone,
                       .rejected = true, .note = "forbidden: not allowed to cancel this order"};
      store_.apply(ctx.sql, ctx.outbox, *order, refused, type, &ctx.event);
      return;
    }
    // The saga's own reasons ("refunded", "cancelled") tell the story.
    reason.clear();
  }
  advance(ctx, input, reason);
}

void OrderHandler::advance(events::HandlerContext& ctx, Input input, const std::string& reason) {
  const std::string order_id = required_string(ctx.event.data.as_object(), "order_id");
  const auto order = store_.load_for_update(ctx.sql, order_id);
  if (!order) {
    const Decision d = decide(std::nullopt, input, reason);
    spdlog::warn("{} for unknown order {}: {}", ctx.event.type, order_id, d.note);
    store_.apply_unknown(ctx.outbox, order_id, d, &ctx.event);
    return;
  }
  const Decision d = decide(order->saga, input, reason);
  store_.apply(ctx.sql, ctx.outbox, *order, d, ctx.event.type, &ctx.event);
}

void OrderHandler::place(events::HandlerContext& ctx) {
  const auto& data = ctx.event.data.as_object();
  OrderRecord order;
  order.order_id = required_string(data, "order_id");
  order.buyer_id = required_string(data, "buyer_id");
  order.payment_token = required_string(data, "payment_token");
  if (store_.load_for_update(ctx.sql, order.order_id)) {
    // The same order placed again under another event id: the first placement stands.
    spdlog::info("order {} placed again; ignored", order.order_id);
    return;
  }
  std::vector<RequestedLine> requested;
  std::map<std::string, KnownProduct> known;
  for (const auto& line : data.at("lines").as_array()) {
    const auto& l = line.as_object();
    RequestedLine r{required_string(l, "product_id"), required_int(l, "quantity")};
    std::string id = r.product_id;
    long long price = 0;
    int deleted = 0;
    KnownProduct p;
    ctx.sql << kLookupPrice, soci::use(id), soci::into(price), soci::into(p.currency),
        soci::into(p.seller_id), soci::into(deleted);
    if (ctx.sql.got_data()) {
      p.price = price;
      p.deleted = deleted != 0;
      known[r.product_id] = p;
    }
    requested.push_back(std::move(r));
  }
  const Pricing pricing = price_order(requested, known);
  order.lines = pricing.lines;
  order.total = pricing.total;
  order.currency = pricing.currency.empty() ? "EUR" : pricing.currency;
  if (pricing.rejection == "unknown_product") {
    events::retry_while_recent(ctx, unknown_product_grace_,
                               "order " + order.order_id + " names a product not listed yet");
  }
  if (!pricing.rejection.empty()) {
    order.saga.status = Status::kRejected;
    order.saga.reason = pricing.rejection;
    order.lines.clear();
    order.total = 0;
    store_.insert(ctx.sql, ctx.outbox, order, &ctx.event);
    return;
  }
  store_.insert(ctx.sql, ctx.outbox, order, &ctx.event);
  store_.apply(ctx.sql, ctx.outbox, order, decide(order.saga, Input::kPlace), ctx.event.type,
               &ctx.event);
}

void OrderHandler::project_price(events::HandlerContext& ctx) {
  const auto& data = ctx.event.data.as_object();
  std::string id = required_string(data, "product_id");
  if (ctx.event.type == "bazaar.catalog.ProductDeleted.v1") {
    ctx.sql << kDeletePrice, soci::use(id);
    return;
  }
  std::string seller = required_string(data, "seller_id");
  long long price = required_int(data, "price");
  std::string currency = required_string(data, "currency");
  ctx.sql << kUpsertPrice, soci::use(id), soci::use(seller), soci::use(price), soci::use(currency);
}

}  // namespace bazaar::order
