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
#include "orders/order_view.hpp"
#include "pricing.hpp"

namespace bazaar::edge {
namespace {

constexpr const char* kProduct = R"sql(
SELECT price, currency, status FROM products_view WHERE product_id = CAST(:id AS uuid))sql";

constexpr const char* kInsertOrder = R"sql(
INSERT INTO orders_view (order_id, buyer_id, status, total, currency, payment_token,
                         created_at, updated_at)
VALUES (CAST(:id AS uuid), CAST(:buyer AS uuid), 'PLACED', :total, :currency, :token,
        CAST(:created AS timestamptz), CAST(:updated AS timestamptz)))sql";

constexpr const char* kInsertLine = R"sql(
INSERT INTO order_lines_view (order_id, line_no, product_id, quantity, unit_price)
VALUES (CAST(:id AS uuid), :no, CAST(:product AS uuid), :quantity, :price))sql";

constexpr const char* kInsertPlacedStep = R"sql(
INSERT INTO order_steps_view (order_id, seq, at, status, previous_status)
VALUES (CAST(:id AS uuid), 0, CAST(:at AS timestamptz), 'PLACED', 'PLACED'))sql";

constexpr const char* kPayment = R"sql(
SELECT status, amount, refunded, currency, COALESCE(payment_id::text, '')
FROM payments_view WHERE order_id = CAST(:id AS uuid))sql";

constexpr const char* kListSort = "orders:newest";
constexpr std::int64_t kMaxLines = 100;
constexpr std::int64_t kMaxQuantity = 1'000'000;

HttpResponse order_answer(int status, const OrderView& order) {
  return json_response(status, to_json_text(boost::json::value(to_json(order, true))));
}

HttpResponse not_found() {
  return problem(404, "Not Found", "no such order");
}

bool may_see(const OrderView& order, const Principal& who) {
  return who.role == "admin" || order.buyer_id == who.user_id;
}

// The caller's order, or nullopt for an unknown one and for another buyer's: both answer 404.
std::optional<OrderView> visible_order(soci::session& sql, const std::string& id,
                                       const Principal& who, bool with_steps) {
  auto order = load_order(sql, id, with_steps);
  if (!order || !may_see(*order, who)) return std::nullopt;
  return order;
}

// The order once it settled, or its latest state when `seconds` pass first (settled false).
// Holding a request thread is the price of Prefer: wait; the order projection wakes the
// waiter, and when every waiting slot is taken the request answers at once.
std::optional<OrderView> wait_for_outcome(ApiContext& api, const std::string& id, int seconds,
                                          bool& settled) {
  OrderWaiters::Waiter waiter(api.waiters, id);  // before the read: no outcome slips between
  std::optional<OrderView> order;
  api.db.read([&](soci::session& sql) { order = load_order(sql, id, true); });
  settled = order && is_settled(order->status);
  if (!order || settled || !waiter.admitted()) return order;
  if (!waiter.wait_until(api.clock.now() + std::chrono::seconds{seconds})) return order;
  api.db.read([&](soci::session& sql) { order = load_order(sql, id, true); });
  settled = order && is_settled(order->status);
  return order;
}

void add_preference_applied(HttpResponse& r, int seconds) {
  r.headers.emplace_back("Preference-Applied", "wait=" + std::to_string(seconds));
}

// Runs `work` in one transaction under the request's Idempotency-Key, if it has one: the
// first answer is stored with the effect, a repeat gets it back without doing anything.
HttpResponse run_keyed(
    ApiContext& api, const RequestContext& ctx, const boost::json::object& body,
    const std::function<HttpResponse(soci::session&, events::OutboxWriter&)>& work,
    bool& replayed) {
  const KeyHeader header = idempotency_key(ctx.request);
  if (header.error) return *header.error;
  std::optional<KeyedRequest> keyed;
  if (header.key) {
    keyed = KeyedRequest{ctx.principal->user_id, *header.key, ctx.request.method, ctx.request.path,
                         request_hash(ctx.request.method, ctx.request.path, body)};
  }
  HttpResponse answer;
  api.db.transact([&](soci::session& sql, events::OutboxWriter& out) {
    replayed = false;
    if (keyed) {
      const KeyClaim claim = claim_key(sql, *keyed);
      if (claim.kind != KeyClaim::Kind::kFirst) {
        answer = claim_response(claim);
        replayed = claim.kind == KeyClaim::Kind::kReplay;
        return;
      }
    }
    answer = work(sql, out);
    if (keyed) record_answer(sql, *keyed, answer.status, answer.body);
  });
  return answer;
}

template <typename Command>
void send_command(ApiContext& api, events::OutboxWriter& out, const Command& command) {
  // The order id correlates every event of its saga, the command that starts it included.
  events::emit(out, api.factory, contracts::topic::kOrderCommands, command.order_id, command,
               nullptr, command.order_id);
}

// The order's status under the shared rules; an unknown name (a newer saga) is none.
std::optional<order::Status> status_of(const OrderView& view) {
  return order::status_from_string(view.status);
}

std::int64_t micros_of(events::Clock::time_point t) {
  // Milliseconds, as the database stores the RFC 3339 text it is given.
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count() * 1000;
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
    if (quantity == nullptr) {
      check.fail(at + "/quantity", "is required");
    } else if (quantity->is_int64() && quantity->get_int64() >= 1 &&
               quantity->get_int64() <= kMaxQuantity) {
      l.quantity = quantity->get_int64();
    } else {
      check.fail(at + "/quantity", "must be an integer from 1 to " + std::to_string(kMaxQuantity));
    }
    lines.push_back(std::move(l));
  }
  return lines;
}

}  // namespace

OrderPlacement::OrderPlacement(ApiContext& api)
    : api_(api), ids_(api.clock, events::system_random()) {}

HttpResponse OrderPlacement::place(const RequestContext& ctx, const boost::json::object& body,
                                   const std::string& payment_token, const LineSource& source,
                                   const AfterPlaced& after) {
  const Principal& buyer = *ctx.principal;
  bool replayed = false;
  std::string order_id;
  HttpResponse answer = run_keyed(
      api_, ctx, body,
      [&](soci::session& sql, events::OutboxWriter& out) -> HttpResponse {
        order_id.clear();  // a transaction retried after a dropped connection starts afresh
        PlaceLines wanted = source(sql);
        if (wanted.problem) return *wanted.problem;

        // Prices here are a preview: the order service captures its own when it places the
        // order, and OrderPlaced brings them to the view.
        OrderView view;
        std::vector<FieldError> errors;
        std::vector<order::RequestedLine> requested;
        std::map<std::string, order::KnownProduct> known;
        for (std::size_t i = 0; i < wanted.lines.size(); ++i) {
          const PlaceLine& line = wanted.lines[i];
          long long price = 0;
          order::KnownProduct product;
          std::string status;
          sql << kProduct, soci::use(line.product_id, "id"), soci::into(price),
              soci::into(product.currency), soci::into(status);
          if (!sql.got_data() || status != "active") {
            errors.push_back(
                {"lines/" + std::to_string(i) + "/product_id", "is not a product on sale"});
            continue;
          }
          product.price = price;
          known[line.product_id] = product;
          requested.push_back({line.product_id, line.quantity});
        }
        // The order service's own pricing rules, so that edge refuses what it would reject.
        const order::Pricing pricing = order::price_order(requested, known);
        if (errors.empty() && !pricing.rejection.empty()) {
          errors.push_back({"lines", pricing.rejection == "mixed_currency"
                                         ? "must all be priced in one currency"
                                         : "cannot be priced: " + pricing.rejection});
        }
        for (const auto& l : pricing.lines)
          view.lines.push_back({l.product_id, l.quantity, l.unit_price});
        view.total = pricing.total;
        view.currency = pricing.currency;
        if (!errors.empty()) {
          std::string detail;
          for (const auto& e : errors)
            detail += (detail.empty() ? "" : "; ") + e.field + " " + e.reason;
          return problem(422, "Unprocessable Content", detail, errors);
        }

        order_id = ids_.next().str();
        const auto now = api_.clock.now();
        view.id = order_id;
        view.buyer_id = buyer.user_id;
        view.status = "PLACED";
        view.payment_token = payment_token;
        view.created_us = view.updated_us = micros_of(now);
        view.steps = std::vector<OrderStep>{{"PLACED", "PLACED", "", view.created_us}};

        const long long total = view.total;
        const std::string created = events::format_rfc3339(now);
        sql << kInsertOrder, soci::use(order_id, "id"), soci::use(buyer.user_id, "buyer"),
            soci::use(total, "total"), soci::use(view.currency, "currency"),
            soci::use(payment_token, "token"), soci::use(created, "created"),
            soci::use(created, "updated");
        contracts::order::PlaceOrderV1 command{.order_id = order_id,
                                               .buyer_id = buyer.user_id,
                                               .lines = {},
                                               .payment_token = payment_token};
        int no = 0;
        for (const auto& l : view.lines) {
          const long long quantity = l.quantity;
          const long long price = l.unit_price;
          sql << kInsertLine, soci::use(order_id, "id"), soci::use(no, "no"),
              soci::use(l.product_id, "product"), soci::use(quantity, "quantity"),
              soci::use(price, "price");
          command.lines.push_back({l.product_id, l.quantity});
          ++no;
        }
        sql << kInsertPlacedStep, soci::use(order_id, "id"), soci::use(created, "at");
        send_command(api_, out, command);
        if (after) after(sql);
        return order_answer(202, view);
      },
      replayed);

  if (answer.status != 202 && answer.status != 200) return answer;
  if (replayed) {
    // The stored answer has no headers: Location is rebuilt from the order it names.
    boost::system::error_code ec;
    const auto stored = boost::json::parse(answer.body, ec);
    if (!ec && stored.is_object() && stored.as_object().contains("id") &&
        stored.as_object().at("id").is_string()) {
      order_id = std::string(stored.as_object().at("id").get_string());
    }
  }
  if (order_id.empty()) return answer;
  const std::string location = "/orders/" + order_id;
  if (!replayed) {
    if (const auto wait = prefer_wait(ctx.request.header("prefer")); wait && *wait > 0) {
      bool settled = false;
      if (auto latest = wait_for_outcome(api_, order_id, *wait, settled); latest && settled) {
        answer = order_answer(200, *latest);
        add_preference_applied(answer, *wait);
      }
    }
  }
  answer.headers.emplace_back("Location", location);
  return answer;
}

void register_order_routes(Router& router, ApiContext& api) {
  auto placement = std::make_shared<OrderPlacement>(api);

  router.add("POST", "/orders", Access::kBuyer, [placement](const RequestContext& ctx) {
    const JsonBody parsed = parse_json_body(ctx.request);
    if (parsed.error) return *parsed.error;
    FieldCheck check(parsed.object);
    std::vector<PlaceLine> lines = read_lines(parsed.object, check);
    const std::string token = check.required_string("payment_token", 1, 200);
    if (!check.ok()) return check.problem();
    return placement->place(
        ctx, parsed.object, token,
        [&lines](soci::session&) {
          return PlaceLines{lines, std::nullopt};
        },
        nullptr);
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
    if (const auto text = ctx.request.param("cursor")) {
      const auto cursor = decode_cursor(*text);
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
          encode_cursor(Cursor{kListSort, std::to_string(last.created_us), last.id});
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
    if (!is_settled(order->status) && *wait > 0) {
      bool settled = false;
      if (auto latest = wait_for_outcome(api, order->id, *wait, settled)) order = std::move(latest);
    }
    HttpResponse r = order_answer(200, *order);
    if (is_settled(order->status)) add_preference_applied(r, *wait);
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
        const std::string id = ctx.params.at("id");
        const Principal& who = *ctx.principal;
        bool replayed = false;
        return run_keyed(
            api, ctx, body,
            [&](soci::session& sql, events::OutboxWriter& out) -> HttpResponse {
              auto order = visible_order(sql, id, who, true);
              if (!order) return not_found();
              if (const auto status = status_of(*order); status && !order::may_cancel(*status)) {
                return problem(409, "Conflict",
                               "an order that is " + order->status + " cannot be cancelled");
              }
              send_command(api, out,
                           contracts::order::CancelOrderV1{.order_id = order->id,
                                                           .actor_id = who.user_id,
                                                           .actor_role = who.role,
                                                           .reason = std::nullopt});
              return order_answer(202, *order);
            },
            replayed);
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
                 if (!order) return;
                 std::string order_id = order->id;
                 std::string status;
                 long long amount = 0;
                 long long refunded = 0;
                 std::string currency;
                 std::string payment_id;
                 sql << kPayment, soci::use(order_id, "id"), soci::into(status), soci::into(amount),
                     soci::into(refunded), soci::into(currency), soci::into(payment_id);
                 if (!sql.got_data()) {
                   // No payment event yet: PENDING, in the order's currency, nothing moved.
                   status = "PENDING";
                   amount = 0;
                   refunded = 0;
                   currency = order->currency;
                 }
                 body = {{"order_id", order->id},
                         {"status", status},
                         {"amount", from_minor(amount)},
                         {"refunded", from_minor(refunded)},
                         {"currency", currency}};
                 if (!payment_id.empty()) body["payment_id"] = payment_id;
               });
               if (!order) return not_found();
               return json_response(200, to_json_text(boost::json::value(std::move(body))));
             });
}

}  // namespace bazaar::edge
