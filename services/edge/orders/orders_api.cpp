#include "orders/orders_api.hpp"

#include <soci/soci.h>

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <charconv>
#include <chrono>
#include <limits>
#include <memory>
#include <set>

#include "catalog/money.hpp"
#include "contracts/contracts.hpp"
#include "events/handler.hpp"
#include "http/cursor.hpp"
#include "http/prefer.hpp"
#include "http/problem.hpp"
#include "http/request_body.hpp"
#include "order_status.hpp"
#include "orders/idempotency.hpp"
#include "orders/keyed_transaction.hpp"
#include "orders/order_placement.hpp"
#include "orders/order_view.hpp"
#include "orders/order_wait.hpp"
#include "pricing.hpp"
#include "refunds.hpp"

namespace bazaar::edge {
namespace {

constexpr const char* kPayment = R"sql(
SELECT status, amount, refunded, currency, COALESCE(payment_id::text, '')
FROM payments_view WHERE order_id = CAST(:id AS uuid))sql";

constexpr const char* kAttempts = R"sql(
SELECT attempt, outcome, COALESCE(reason, ''),
       to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
FROM payment_attempts_view WHERE order_id = CAST(:id AS uuid) ORDER BY attempt)sql";

constexpr const char* kWindow = R"sql(
SELECT COALESCE(to_char(payment_due_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), ''),
       COALESCE(payment_attempts_left, 0)
FROM orders_view WHERE order_id = CAST(:id AS uuid))sql";

constexpr const char* kRefunds = R"sql(
SELECT CAST(refund_id AS text), amount, reason, status, COALESCE(refusal, ''),
       to_char(requested_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
       COALESCE(to_char(refunded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), '')
FROM refunds_view WHERE order_id = CAST(:id AS uuid) ORDER BY requested_at, refund_id)sql";

// Refunds asked through edge and not refused, and what payment.events report refunded.
constexpr const char* kRefundRequested = R"sql(
SELECT GREATEST(
  (SELECT COALESCE(sum(amount), 0) FROM refunds_view
   WHERE order_id = CAST(:id AS uuid) AND status <> 'REFUSED'),
  (SELECT COALESCE(max(refunded), 0) FROM payments_view WHERE order_id = CAST(:same_id AS uuid))))sql";

constexpr const char* kInsertRefund = R"sql(
INSERT INTO refunds_view (refund_id, order_id, amount, reason, status, requested_at)
VALUES (CAST(:refund_id AS uuid), CAST(:order_id AS uuid), :amount, :reason, 'REQUESTED',
        CAST(:at AS timestamptz)))sql";

// The order stops waiting for its buyer while this payment runs: its window shows again (and a
// Prefer: wait holds again) only when the order service says it waits once more.
constexpr const char* kSetToken =
    "UPDATE orders_view SET payment_token = :token, payment_due_at = NULL "
    "WHERE order_id = CAST(:id AS uuid)";

constexpr const char* kListSort = "orders:newest";
constexpr std::int64_t kMaxLines = 100;
constexpr std::int64_t kMaxQuantity = 1'000'000;

HttpResponse not_found() {
  return problem(404, "Not Found", "no such order");
}

bool may_see(const OrderView& order, const Principal& who) {
  return who.role == "admin" || order.buyer_id == who.user_id;
}

// The caller's order, or nullopt for an unknown one and for another buyer's: both answer 404.
std::optional<OrderView> visible_order(soci::session& sql, const std::string& id,
                                       const Principal& who, bool with_steps) {
  // Read by its canonical spelling: an id in capitals names the same order and is answered
  // with the id as the order has it.
  const auto uuid = events::Uuid::parse(id);
  if (!uuid) return std::nullopt;
  auto order = load_order(sql, uuid->str(), with_steps);
  if (!order || !may_see(*order, who)) return std::nullopt;
  return order;
}

// Runs `work` on the caller's order (path parameter `id`) in one transaction under the
// request's Idempotency-Key; an order they may not see is 404.
// `location`, when given, is the path under the order that a 202 names in Location, on the first
// answer and on its replays alike (a stored answer keeps no headers).
HttpResponse keyed_order_action(
    ApiContext& api, const RequestContext& ctx, const boost::json::object& body, bool with_steps,
    const std::function<HttpResponse(soci::session&, events::OutboxWriter&, OrderView&)>& work,
    const char* location = nullptr) {
  const std::string id = ctx.params.at("id");
  bool replayed = false;
  HttpResponse answer = run_keyed(
      api, ctx, body,
      [&](soci::session& sql, events::OutboxWriter& out) -> HttpResponse {
        auto order = visible_order(sql, id, *ctx.principal, with_steps);
        if (!order) return not_found();
        return work(sql, out, *order);
      },
      replayed);
  if (location != nullptr && answer.status == 202) {
    if (const auto uuid = events::Uuid::parse(id)) {
      answer.headers.emplace_back("Location", "/orders/" + uuid->str() + location);
    }
  }
  return answer;
}

// The order's status under the shared rules; an unknown name (a newer saga) is none.
std::optional<order::Status> status_of(const OrderView& view) {
  return order::status_from_string(view.status);
}

// The payment of an order: its status as payment.events tell it, every answered attempt, and
// while the order waits for its buyer, the end of the payment window and the attempts left.
boost::json::object payment_json(soci::session& sql, const OrderView& order) {
  std::string status;
  long long amount = 0;
  long long refunded = 0;
  std::string currency;
  std::string payment_id;
  sql << kPayment, soci::use(order.id, "id"), soci::into(status), soci::into(amount),
      soci::into(refunded), soci::into(currency), soci::into(payment_id);
  if (!sql.got_data()) {
    // No payment event yet: PENDING, in the order's currency, nothing moved.
    status = "PENDING";
    amount = 0;
    refunded = 0;
    currency = order.currency;
  }
  boost::json::object body{{"order_id", order.id},
                           {"status", status},
                           {"amount", from_minor(amount)},
                           {"refunded", from_minor(refunded)},
                           {"currency", currency}};
  if (!payment_id.empty()) body["payment_id"] = payment_id;
  boost::json::array attempts;
  soci::rowset<soci::row> rows = (sql.prepare << kAttempts, soci::use(order.id, "id"));
  for (const auto& row : rows) {
    boost::json::object a{{"attempt", row.get<int>(0)},
                          {"outcome", row.get<std::string>(1)},
                          {"at", row.get<std::string>(3)}};
    if (const auto reason = row.get<std::string>(2); !reason.empty()) a["reason"] = reason;
    attempts.push_back(std::move(a));
  }
  body["attempts"] = std::move(attempts);
  boost::json::array refunds;
  soci::rowset<soci::row> refund_rows = (sql.prepare << kRefunds, soci::use(order.id, "id"));
  for (const auto& row : refund_rows) {
    boost::json::object r{{"refund_id", row.get<std::string>(0)},
                          {"amount", from_minor(row.get<long long>(1))},
                          {"reason", row.get<std::string>(2)},
                          {"status", row.get<std::string>(3)},
                          {"requested_at", row.get<std::string>(5)}};
    if (const auto refusal = row.get<std::string>(4); !refusal.empty()) r["refusal"] = refusal;
    if (const auto at = row.get<std::string>(6); !at.empty()) r["refunded_at"] = at;
    refunds.push_back(std::move(r));
  }
  body["refunds"] = std::move(refunds);
  std::string due;
  int left = 0;
  sql << kWindow, soci::use(order.id, "id"), soci::into(due), soci::into(left);
  if (order.status == "AWAITING_PAYMENT" && !due.empty() && status != "CHARGED") {
    body["due_at"] = due;
    body["attempts_left"] = left;
  }
  return body;
}

// The lines of a POST /orders body, each invalid field named.
std::vector<PlaceLine> read_lines(const boost::json::object& body, FieldCheck& check) {
  std::vector<PlaceLine> lines;
  const auto* value = body.if_contains("lines");
  if (value == nullptr) {
    check.fail("lines", "is required");
    return lines;
  }
  if (!value->is_array() || value->get_array().empty() ||
      value->get_array().size() > static_cast<std::size_t>(kMaxLines)) {
    check.fail("lines", "must be an array of 1 to " + std::to_string(kMaxLines) + " lines");
    return lines;
  }
  std::map<std::string, std::size_t> seen;
  const auto& array = value->get_array();
  for (std::size_t i = 0; i < array.size(); ++i) {
    const std::string at = "lines/" + std::to_string(i);
    if (!array[i].is_object()) {
      check.fail(at, "must be an object");
      continue;
    }
    const auto& line = array[i].get_object();
    PlaceLine l;
    const auto* product = line.if_contains("product_id");
    if (product == nullptr) {
      check.fail(at + "/product_id", "is required");
    } else if (!product->is_string() || !events::Uuid::parse(product->get_string())) {
      check.fail(at + "/product_id", "must be a UUID");
    } else {
      l.product_id = events::Uuid::parse(product->get_string())->str();
      const auto [it, fresh] = seen.emplace(l.product_id, i);
      // One line per product: the stock reservation counts a product once.
      if (!fresh) check.fail(at + "/product_id", "repeats line " + std::to_string(it->second));
    }
    const auto* quantity = line.if_contains("quantity");
    const auto count = quantity != nullptr ? json_integer(*quantity) : std::nullopt;
    if (quantity == nullptr) {
      check.fail(at + "/quantity", "is required");
    } else if (count && *count >= 1 && *count <= kMaxQuantity) {
      l.quantity = *count;
    } else {
      check.fail(at + "/quantity", "must be an integer from 1 to " + std::to_string(kMaxQuantity));
    }
    lines.push_back(std::move(l));
  }
  return lines;
}

}  // namespace

void register_order_routes(Router& router, ApiContext& api) {
  auto placement = std::make_shared<OrderPlacement>(api);

  router.add("POST", "/orders", Access::kBuyer, [placement](const RequestContext& ctx) {
    const JsonBody parsed = parse_json_body(ctx.request);
    if (parsed.error) return *parsed.error;
    FieldCheck check(parsed.object);
    std::vector<PlaceLine> lines = read_lines(parsed.object, check);
    // Without a token the order waits for POST /orders/{id}/payment.
    const auto token = check.optional_string("payment_token", 1, 200);
    if (!check.ok()) return check.problem();
    return placement->place_lines(ctx, parsed.object, token, lines);
  });

  router.add("GET", "/orders", Access::kBuyerOrAdmin, [&api](const RequestContext& ctx) {
    const Principal& who = *ctx.principal;
    OrderFilter filter;
    std::vector<FieldError> errors;
    const auto limit = parse_limit(ctx.request.param("limit"));
    if (!limit)
      errors.push_back({"limit", "must be an integer from 1 to " + std::to_string(kMaxPageSize)});
    filter.limit = static_cast<int>(limit.value_or(kDefaultPageSize));
    if (const auto status = ctx.request.param("status")) {
      if (!is_known_status(*status)) errors.push_back({"status", "is not an order status"});
      filter.status = *status;
    }
    if (who.role == "admin") {
      if (const auto buyer = ctx.request.param("buyer_id")) {
        const auto id = events::Uuid::parse(*buyer);
        if (!id) errors.push_back({"buyer_id", "must be a UUID"});
        filter.buyer_id = id ? id->str() : std::string{};
      }
    } else {
      // A buyer's list is their own, whatever buyer_id says.
      filter.buyer_id = who.user_id;
    }
    // Pages of one buyer (or every buyer) and one status: a cursor is read only there.
    const std::string scope = cursor_scope("orders", {filter.buyer_id, filter.status});
    if (const auto text = ctx.request.param("cursor")) {
      const auto cursor = decode_cursor(*text, scope);
      std::int64_t us = 0;
      const bool ok =
          cursor && cursor->sort == kListSort &&
          std::from_chars(cursor->key.data(), cursor->key.data() + cursor->key.size(), us).ec ==
              std::errc{};
      if (!ok) {
        errors.push_back({"cursor", "is not a cursor of this list"});
      } else {
        filter.after_created_us = us;
        filter.after_id = cursor->id;
      }
    }
    if (!errors.empty()) {
      return problem(422, "Unprocessable Content", "invalid query parameters", errors);
    }
    OrderPage page;
    api.db.read([&](soci::session& sql) { page = list_orders(sql, filter); });
    boost::json::array items;
    for (const auto& o : page.items) items.push_back(to_json(o, true));
    boost::json::object body{{"items", std::move(items)}, {"next_cursor", nullptr}};
    if (page.more) {
      const OrderView& last = page.items.back();
      body["next_cursor"] =
          encode_cursor(Cursor{kListSort, std::to_string(last.created_us), last.id}, scope);
    }
    return json_response(200, to_json_text(boost::json::value(std::move(body))));
  });

  router.add("GET", "/orders/{id}", Access::kBuyerOrAdmin, [&api](const RequestContext& ctx) {
    const std::string id = ctx.params.at("id");
    std::optional<OrderView> order;
    api.db.read([&](soci::session& sql) { order = visible_order(sql, id, *ctx.principal, true); });
    if (!order) return not_found();
    const auto wait = prefer_wait(ctx.request.header("prefer"));
    if (!wait) return order_answer(200, *order);
    if (!answers_wait(*order) && *wait > 0) {
      bool answered = false;
      if (auto latest = wait_for_outcome(api, order->id, *wait, answered))
        order = std::move(latest);
    }
    HttpResponse r = order_answer(200, *order);
    if (answers_wait(*order)) add_preference_applied(r, *wait);
    return r;
  });

  router.add(
      "POST", "/orders/{id}/cancel", Access::kBuyerOrAdmin, [&api](const RequestContext& ctx) {
        // The body is optional and unused; it still counts for the key's fingerprint.
        boost::json::object body;
        if (!ctx.request.body.empty()) {
          const JsonBody parsed = parse_json_body(ctx.request);
          if (parsed.error) return *parsed.error;
          body = parsed.object;
        }
        const Principal& who = *ctx.principal;
        return keyed_order_action(
            api, ctx, body, true,
            [&](soci::session&, events::OutboxWriter& out, OrderView& order) -> HttpResponse {
              if (const auto status = status_of(order); status && !order::may_cancel(*status)) {
                return problem(409, "Conflict",
                               "an order that is " + order.status + " cannot be cancelled");
              }
              send_command(api, out,
                           contracts::order::CancelOrderV1{.order_id = order.id,
                                                           .actor_id = who.user_id,
                                                           .actor_role = who.role,
                                                           .reason = std::nullopt});
              return order_answer(202, order);
            });
      });

  router.add("PATCH", "/orders/{id}/status", Access::kAdmin, [&api](const RequestContext& ctx) {
    const JsonBody parsed = parse_json_body(ctx.request);
    if (parsed.error) return *parsed.error;
    FieldCheck check(parsed.object);
    const std::string status = check.required_string("status", 1, 20);
    const auto target = order::status_from_string(status);
    const auto needed = target ? order::advances_from(*target) : std::nullopt;
    if (check.ok() && !needed) check.fail("status", "must be SHIPPED or DELIVERED");
    if (!check.ok()) return check.problem();
    const std::string id = ctx.params.at("id");
    const Principal& who = *ctx.principal;
    HttpResponse answer;
    api.db.transact([&](soci::session& sql, events::OutboxWriter& out) {
      auto order = visible_order(sql, id, who, true);
      if (!order) {
        answer = not_found();
        return;
      }
      if (status_of(*order) != needed) {
        answer = problem(409, "Conflict",
                         "only a " + std::string(order::to_string(*needed)) + " order can become " +
                             status + "; this one is " + order->status);
        return;
      }
      send_command(api, out,
                   contracts::order::AdvanceOrderStatusV1{
                       .order_id = order->id, .status = status, .actor_id = who.user_id});
      answer = order_answer(202, *order);
    });
    return answer;
  });

  router.add("GET", "/orders/{id}/payment", Access::kBuyerOrAdmin,
             [&api](const RequestContext& ctx) {
               const std::string id = ctx.params.at("id");
               std::optional<OrderView> order;
               boost::json::object body;
               api.db.read([&](soci::session& sql) {
                 order = visible_order(sql, id, *ctx.principal, false);
                 if (order) body = payment_json(sql, *order);
               });
               if (!order) return not_found();
               return json_response(200, to_json_text(boost::json::value(std::move(body))));
             });

  auto refund_ids = std::make_shared<events::UuidV7Generator>(api.clock, events::system_random());
  router.add(
      "POST", "/orders/{id}/refunds", Access::kAdmin,
      [&api, refund_ids](const RequestContext& ctx) {
        const JsonBody parsed = parse_json_body(ctx.request);
        if (parsed.error) return *parsed.error;
        FieldCheck check(parsed.object);
        const std::string reason = check.required_string("reason", 1, 200);
        std::optional<std::int64_t> amount;
        if (const auto* value = parsed.object.if_contains("amount")) {
          amount = to_minor(*value);
          if (!amount || *amount <= 0) {
            check.fail("amount", "must be a positive amount with at most two decimals");
          }
        }
        if (!check.ok()) return check.problem();
        const Principal& who = *ctx.principal;
        return keyed_order_action(
            api, ctx, parsed.object, false,
            [&](soci::session& sql, events::OutboxWriter& out, OrderView& order) -> HttpResponse {
              const auto status = status_of(order);
              long long requested = 0;
              sql << kRefundRequested, soci::use(order.id, "id"), soci::use(order.id, "same_id"),
                  soci::into(requested);
              // The order service's own rule: the same answer here and there.
              const order::RefundPlan plan =
                  status ? order::plan_refund(*status, order.total, requested, amount)
                         : order::RefundPlan{};
              if (plan.kind == order::RefundPlan::Kind::kRefuse) {
                return problem(409, "Conflict",
                               plan.reason.empty() ? "this order cannot be refunded" : plan.reason);
              }
              const std::string refund_id = refund_ids->next().str();
              const std::string at = events::format_rfc3339(api.clock.now());
              const long long value = plan.amount;
              sql << kInsertRefund, soci::use(refund_id, "refund_id"),
                  soci::use(order.id, "order_id"), soci::use(value, "amount"),
                  soci::use(reason, "reason"), soci::use(at, "at");
              send_command(api, out,
                           contracts::order::RefundOrderV1{.order_id = order.id,
                                                           .refund_id = refund_id,
                                                           .amount = plan.amount,
                                                           .reason = reason,
                                                           .actor_id = who.user_id,
                                                           .actor_role = who.role});
              const boost::json::object body{
                  {"refund_id", refund_id},
                  {"order_id", order.id},
                  {"amount", from_minor(plan.amount)},
                  {"reason", reason},
                  {"status", "REQUESTED"},
                  {"cancels_order", plan.kind == order::RefundPlan::Kind::kCancelAndRefund},
                  {"requested_at", at}};
              return json_response(202, to_json_text(boost::json::value(body)));
            },
            "/payment");
      });

  router.add("POST", "/orders/{id}/payment", Access::kBuyer, [&api](const RequestContext& ctx) {
    const JsonBody parsed = parse_json_body(ctx.request);
    if (parsed.error) return *parsed.error;
    FieldCheck check(parsed.object);
    const std::string token = check.required_string("payment_token", 1, 200);
    if (!check.ok()) return check.problem();
    const Principal& who = *ctx.principal;
    return keyed_order_action(
        api, ctx, parsed.object, false,
        [&](soci::session& sql, events::OutboxWriter& out, OrderView& order) -> HttpResponse {
          boost::json::object payment = payment_json(sql, order);
          if (payment.at("status") == "CHARGED" || payment.at("status") == "REFUNDED") {
            return problem(409, "Conflict", "the order is paid already");
          }
          if (const auto status = status_of(order); status && !order::may_pay(*status)) {
            return problem(409, "Conflict",
                           "an order that is " + order.status + " does not await a payment");
          }
          sql << kSetToken, soci::use(token, "token"), soci::use(order.id, "id");
          // Paying, the order no longer waits for its buyer: no window to show.
          payment.erase("due_at");
          payment.erase("attempts_left");
          send_command(api, out,
                       contracts::order::PayOrderV1{
                           .order_id = order.id, .payment_token = token, .actor_id = who.user_id});
          return json_response(202, to_json_text(boost::json::value(std::move(payment))));
        },
        "/payment");
  });
}

}  // namespace bazaar::edge
