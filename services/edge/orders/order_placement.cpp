#include "orders/order_placement.hpp"

#include <soci/soci.h>

#include <boost/json/parse.hpp>
#include <chrono>
#include <map>

#include "catalog/money.hpp"
#include "events/db.hpp"
#include "http/prefer.hpp"
#include "http/problem.hpp"
#include "orders/keyed_transaction.hpp"
#include "orders/order_wait.hpp"
#include "pricing.hpp"

namespace bazaar::edge {
namespace {

// Prepared: every placement runs them (events::PreparedStatement).
const events::PreparedStatement kProduct{"edge_placement_product", R"sql(
SELECT price, currency, status FROM products_view WHERE product_id = CAST($1 AS uuid))sql"};

// The order, its lines and its first step in one statement: the foreign keys of the lines and
// the step are checked at its end, when the order row is there.
const events::PreparedStatement kInsertOrder{"edge_placement_insert", R"sql(
WITH placed AS (
  INSERT INTO orders_view (order_id, buyer_id, status, total, currency, payment_token,
                           created_at, updated_at)
  VALUES (CAST($1 AS uuid), CAST($2 AS uuid), 'PLACED', CAST($3 AS bigint), $4, NULLIF($5, ''),
          CAST($6 AS timestamptz), CAST($6 AS timestamptz))),
lines AS (
  INSERT INTO order_lines_view (order_id, line_no, product_id, quantity, unit_price)
  SELECT CAST($1 AS uuid), CAST(l.no AS integer) - 1, l.product_id, l.quantity, l.price
  FROM unnest(CAST($7 AS uuid[]), CAST($8 AS bigint[]), CAST($9 AS bigint[]))
       WITH ORDINALITY AS l (product_id, quantity, price, no))
INSERT INTO order_steps_view (order_id, seq, at, status, previous_status)
VALUES (CAST($1 AS uuid), 0, CAST($6 AS timestamptz), 'PLACED', 'PLACED'))sql"};

std::int64_t micros_of(events::Clock::time_point t) {
  // Milliseconds, as the database stores the RFC 3339 text it is given.
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count() * 1000;
}

}  // namespace

HttpResponse order_answer(int status, const OrderView& order) {
  return json_response(status, to_json_text(boost::json::value(to_json(order, true))));
}

OrderPlacement::OrderPlacement(ApiContext& api)
    : api_(api), ids_(api.clock, events::system_random()) {}

HttpResponse OrderPlacement::place(const RequestContext& ctx, const boost::json::object& body,
                                   const std::optional<std::string>& payment_token,
                                   const LineSource& source, const AfterPlaced& after) {
  const Principal& buyer = *ctx.principal;
  bool replayed = false;
  std::string order_id;
  HttpResponse answer = run_keyed(
      api_, ctx, body,
      [&](soci::session& sql, events::OutboxWriter& out) -> HttpResponse {
        order_id.clear();  // a transaction retried after a dropped connection starts afresh
        // Refused before any work when accepting it would blow the sagas' deadlines: the
        // transaction rolls back, so an Idempotency-Key stays free for the retry.
        // A broker that is away is the reason to give, before any estimate of the load.
        require_broker(api_);
        if (api_.admission != nullptr) api_.admission->admit_one(sql);
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
          const events::PreparedRows row = kProduct.query(sql, {&line.product_id});
          if (row.empty() || row.text(0, 2) != "active") {
            errors.push_back(
                {"lines/" + std::to_string(i) + "/product_id", "is not a product on sale"});
            continue;
          }
          order::KnownProduct product;
          product.price = row.integer(0, 0);
          product.currency = row.text(0, 1);
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
        const std::string token = payment_token.value_or("");
        view.payment_token = token;
        view.created_us = view.updated_us = micros_of(now);
        view.steps = std::vector<OrderStep>{{"PLACED", "PLACED", "", view.created_us}};

        contracts::order::PlaceOrderV1 command{.order_id = order_id,
                                               .buyer_id = buyer.user_id,
                                               .lines = {},
                                               .payment_token = payment_token};
        std::vector<std::string> products;
        std::vector<long long> quantities;
        std::vector<long long> prices;
        for (const auto& l : view.lines) {
          products.push_back(l.product_id);
          quantities.push_back(l.quantity);
          prices.push_back(l.unit_price);
          command.lines.push_back({l.product_id, l.quantity});
        }
        const std::string total = std::to_string(view.total);
        const std::string created = events::format_rfc3339(now);
        const std::string product_array = events::pg_text_array(products);
        const std::string quantity_array = events::pg_int_array(quantities);
        const std::string price_array = events::pg_int_array(prices);
        kInsertOrder.run(sql, {&order_id, &buyer.user_id, &total, &view.currency, &token, &created,
                               &product_array, &quantity_array, &price_array});
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
        replace_keyed_answer(api_, ctx, body, answer);
      } else if (latest) {
        // Not settled in time (an order without a token rests awaiting its payment): still
        // accepted, shown as it is now rather than as it was placed.
        answer = order_answer(202, *latest);
        // A repeat of the key answers what this request was answered.
        replace_keyed_answer(api_, ctx, body, answer);
      }
    }
  }
  answer.headers.emplace_back("Location", location);
  return answer;
}

}  // namespace bazaar::edge
