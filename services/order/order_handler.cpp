#include "order_handler.hpp"

#include <soci/soci.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>

#include "events/db.hpp"
#include "events/fields.hpp"
#include "refunds.hpp"
#include "saga_inputs.hpp"

namespace bazaar::order {
namespace {

constexpr const char* kUpsertPrice = R"sql(
INSERT INTO catalog_prices (product_id, seller_id, price, currency, deleted, updated_at)
VALUES (CAST(:id AS uuid), CAST(:seller AS uuid), :price, :currency, false, now())
ON CONFLICT (product_id) DO UPDATE
SET seller_id = EXCLUDED.seller_id, price = EXCLUDED.price, currency = EXCLUDED.currency,
    updated_at = now()
WHERE NOT catalog_prices.deleted)sql";

constexpr const char* kDeletePrice =
    "UPDATE catalog_prices SET deleted = true, updated_at = now() WHERE product_id = CAST(:id AS "
    "uuid)";

void upsert_price(soci::session& sql, const std::string& product_id, const std::string& seller_id,
                  std::int64_t price, const std::string& currency) {
  sql << kUpsertPrice, soci::use(product_id, "id"), soci::use(seller_id, "seller"),
      soci::use(price, "price"), soci::use(currency, "currency");
}

}  // namespace

OrderHandler::OrderHandler(const SagaStore& store, std::chrono::milliseconds unknown_product_grace,
                           int payment_attempts)
    : store_(store),
      unknown_product_grace_(unknown_product_grace),
      payment_attempts_(payment_attempts) {
  on(&OrderHandler::place, &OrderHandler::reject_unstorable);
  on(&OrderHandler::cancel, &OrderHandler::reject_unstorable);
  on(&OrderHandler::pay, &OrderHandler::reject_unstorable);
  on(&OrderHandler::refund, &OrderHandler::reject_unstorable);
  on(&OrderHandler::advance_status, &OrderHandler::reject_unstorable);
  on(&OrderHandler::price_listed);
  on(&OrderHandler::price_changed);
  on(&OrderHandler::price_removed);
  for (const auto type : reply_types()) on(std::string(type), &OrderHandler::reply);
}

void OrderHandler::lock_ahead(soci::session& sql,
                              const std::vector<const events::Envelope*>& batch) {
  std::vector<std::string> orders;
  std::vector<std::string> products;
  for (const auto* e : batch) {
    const auto* data = e->data.if_object();
    if (data == nullptr) continue;
    if (auto id = events::uuid_at(*data, "order_id")) orders.push_back(std::move(*id));
    if (e->type != contracts::order::PlaceOrderV1::kType) continue;
    const auto* lines = data->if_contains("lines");
    if (lines == nullptr || !lines->is_array()) continue;
    for (const auto& line : lines->get_array()) {
      if (!line.is_object()) continue;
      if (auto id = events::uuid_at(line.get_object(), "product_id")) {
        products.push_back(std::move(*id));
      }
    }
  }
  book_.load(sql, orders);
  book_.load_prices(sql, products);
}

void OrderHandler::begin(soci::session& /*sql*/) {
  book_.clear();
}

void OrderHandler::before_commit(soci::session& sql, events::OutboxWriter& /*outbox*/) {
  book_.flush(sql);
}

void OrderHandler::reject_unstorable(events::HandlerContext& ctx,
                                     const events::UnstorableValue& value) {
  const std::string order_id = events::refused_id(ctx, "order_id");
  ctx.emit(contracts::topic::kOrderEvents, order_id,
           contracts::order::OrderCommandRejectedV1{.order_id = order_id,
                                                    .command = ctx.event.type,
                                                    .reason = "invalid: " + value.message(),
                                                    .status = std::nullopt});
}

void OrderHandler::reply(events::HandlerContext& ctx) {
  const auto fields = events::Fields::of(ctx.event.data);
  // The answer to an admin refund: booked once, then the saga sees it like any refund (it
  // ends a compensation; a kept order ignores it).
  if (const auto refund_id = fields.optional_string("refund_id");
      refund_id && ctx.event.type == contracts::payment::PaymentRefundedV1::kType) {
    if (const auto order = book_.find(ctx.sql, fields.string("order_id"))) {
      store_.refund_paid(ctx.sql, book_, ctx.outbox, *order, *refund_id, fields.int64("amount"),
                         &ctx.event);
    }
  }
  advance(ctx, fields.string("order_id"), *reply_input(ctx.event.type),
          fields.optional_string("reason").value_or(""),
          static_cast<int>(fields.optional_int64("attempt").value_or(0)));
}

void OrderHandler::refuse_command(events::HandlerContext& ctx, const OrderRecord& order,
                                  const std::string& why) {
  const Decision refused{.saga = order.saga,
                         .commands = {},
                         .deadline = Deadline::kNone,
                         .rejected = true,
                         .awaiting_buyer = false,
                         .note = why};
  store_.apply(book_, ctx.outbox, order, refused, ctx.event.type, &ctx.event);
}

void OrderHandler::pay(events::HandlerContext& ctx, const contracts::order::PayOrderV1& cmd) {
  auto order = book_.find(ctx.sql, cmd.order_id);
  if (!order) {
    advance(ctx, cmd.order_id, Input::kPay, {});
    return;
  }
  // Only the buyer pays their order.
  if (order->buyer_id != cmd.actor_id) {
    refuse_command(ctx, *order, "forbidden: only the order's buyer pays it");
    return;
  }
  const Decision d = decide(order->saga, Input::kPay);
  OrderRecord paid = *order;
  if (!d.rejected) paid.payment_token = cmd.payment_token;
  store_.apply(book_, ctx.outbox, paid, d, ctx.event.type, &ctx.event);
}

void OrderHandler::refund(events::HandlerContext& ctx, const contracts::order::RefundOrderV1& cmd) {
  auto loaded = book_.find(ctx.sql, cmd.order_id);
  if (!loaded) {
    ctx.emit(contracts::topic::kOrderEvents, cmd.order_id,
             contracts::order::OrderCommandRejectedV1{.order_id = cmd.order_id,
                                                      .command = ctx.event.type,
                                                      .reason = "no such order",
                                                      .status = std::nullopt,
                                                      .refund_id = cmd.refund_id});
    return;
  }
  OrderRecord order = *loaded;
  order.refund_id = cmd.refund_id;
  order.refund_reason = cmd.reason;
  if (cmd.actor_role != "admin") {
    refuse_command(ctx, order, "forbidden: only an admin refunds an order");
    return;
  }
  if (store_.refund_known(ctx.sql, cmd.refund_id)) {
    spdlog::info("refund {} of order {} asked again; ignored", cmd.refund_id, cmd.order_id);
    return;
  }
  const RefundPlan plan =
      plan_refund(order.saga.status, order.total, order.refund_requested, cmd.amount);
  switch (plan.kind) {
    case RefundPlan::Kind::kRefuse:
      refuse_command(ctx, order, plan.reason);
      return;
    case RefundPlan::Kind::kCancelAndRefund:
      // Everything left before shipping: the order is cancelled, its stock released, and the
      // compensation's RefundPayment carries this refund.
      store_.record_refund(ctx.sql, book_, order, plan.amount, cmd.actor_id);
      store_.apply(book_, ctx.outbox, order, decide(order.saga, Input::kCancel, "refunded"),
                   ctx.event.type, &ctx.event);
      return;
    case RefundPlan::Kind::kPartial:
      store_.record_refund(ctx.sql, book_, order, plan.amount, cmd.actor_id);
      store_.send_partial_refund(book_, ctx.outbox, order, plan.amount, ctx.event.type, &ctx.event);
      return;
  }
}

void OrderHandler::cancel(events::HandlerContext& ctx, const contracts::order::CancelOrderV1& cmd) {
  // Allow-list: an admin cancels any order, a buyer only their own; anyone else is refused.
  auto order = book_.find(ctx.sql, cmd.order_id);
  const bool allowed = cmd.actor_role == "admin" ||
                       (cmd.actor_role == "buyer" && order && order->buyer_id == cmd.actor_id);
  if (order && !allowed) {
    refuse_command(ctx, *order, "forbidden: not allowed to cancel this order");
    return;
  }
  // The saga's own reasons ("refunded", "cancelled") tell the story.
  advance(ctx, cmd.order_id, Input::kCancel, {});
}

void OrderHandler::advance_status(events::HandlerContext& ctx,
                                  const contracts::order::AdvanceOrderStatusV1& cmd) {
  advance(ctx, cmd.order_id, cmd.status == "SHIPPED" ? Input::kShip : Input::kDeliver, {});
}

void OrderHandler::advance(events::HandlerContext& ctx, const std::string& order_id, Input input,
                           const std::string& reason, int attempt) {
  const auto order = book_.find(ctx.sql, order_id);
  if (!order) {
    const Decision d = decide(std::nullopt, input, reason);
    spdlog::warn("{} for unknown order {}: {}", ctx.event.type, order_id, d.note);
    store_.apply_unknown(ctx.outbox, order_id, d, &ctx.event);
    return;
  }
  const Decision d = decide(order->saga, input, reason, attempt);
  store_.apply(book_, ctx.outbox, *order, d, ctx.event.type, &ctx.event);
}

void OrderHandler::place(events::HandlerContext& ctx, const contracts::order::PlaceOrderV1& cmd) {
  OrderRecord order;
  order.order_id = cmd.order_id;
  order.buyer_id = cmd.buyer_id;
  order.payment_token = cmd.payment_token.value_or("");
  order.saga.has_token = !order.payment_token.empty();
  order.saga.max_attempts = payment_attempts_;
  if (book_.find(ctx.sql, order.order_id)) {
    // The same order placed again under another event id: the first placement stands.
    spdlog::info("order {} placed again; ignored", order.order_id);
    return;
  }
  std::vector<RequestedLine> requested;
  std::vector<std::string> products;
  for (const auto& line : cmd.lines) {
    requested.push_back({line.product_id, line.quantity});
    products.push_back(line.product_id);
  }
  book_.load_prices(ctx.sql, products);
  std::map<std::string, KnownProduct> known;
  for (const auto& line : cmd.lines) {
    if (auto p = book_.price(line.product_id)) known[line.product_id] = std::move(*p);
  }
  const Pricing pricing = price_order(requested, known);
  order.lines = pricing.lines;
  order.total = pricing.total;
  order.currency = pricing.currency.empty() ? "EUR" : pricing.currency;
  // A product not heard of yet may still be on its way; a deleted one will not come back, and
  // an order naming one is rejected whatever the others turn out to be.
  const bool some_unheard = std::any_of(cmd.lines.begin(), cmd.lines.end(), [&](const auto& line) {
    return !known.contains(line.product_id);
  });
  const bool some_deleted =
      std::any_of(known.begin(), known.end(), [](const auto& k) { return k.second.deleted; });
  if (pricing.rejection == "unknown_product" && some_unheard && !some_deleted) {
    events::retry_while_recent(ctx, unknown_product_grace_,
                               "order " + order.order_id + " names a product not listed yet");
  }
  if (!pricing.rejection.empty()) {
    order.saga.status = Status::kRejected;
    order.saga.reason = pricing.rejection;
    order.lines.clear();
    order.total = 0;
    store_.insert(book_, ctx.outbox, order, &ctx.event);
    return;
  }
  store_.insert(book_, ctx.outbox, order, &ctx.event);
  store_.apply(book_, ctx.outbox, order, decide(order.saga, Input::kPlace), ctx.event.type,
               &ctx.event);
}

void OrderHandler::price_listed(events::HandlerContext& ctx,
                                const contracts::catalog::ProductCreatedV1& e) {
  upsert_price(ctx.sql, e.product_id, e.seller_id, e.price, e.currency);
}

void OrderHandler::price_changed(events::HandlerContext& ctx,
                                 const contracts::catalog::ProductUpdatedV1& e) {
  upsert_price(ctx.sql, e.product_id, e.seller_id, e.price, e.currency);
}

void OrderHandler::price_removed(events::HandlerContext& ctx,
                                 const contracts::catalog::ProductDeletedV1& e) {
  ctx.sql << kDeletePrice, soci::use(e.product_id, "id");
}

}  // namespace bazaar::order
