#include "orders/order_placement.hpp"

#include <soci/soci.h>

#include <boost/json/parse.hpp>
#include <chrono>
#include <map>

#include "catalog/money.hpp"
#include "http/prefer.hpp"
#include "http/problem.hpp"
#include "orders/keyed_transaction.hpp"
#include "orders/order_wait.hpp"
#include "pricing.hpp"

namespace bazaar::edge {
namespace {

constexpr const char* kProduct = R"sql(
SELECT price, currency, status FROM products_view WHERE product_id = CAST(:id AS uuid))sql";

constexpr const char* kInsertOrder = R"sql(
INSERT INTO orders_view (order_id, buyer_id, status, total, currency, payment_token,
                         created_at, updated_at)
VALUES (CAST(:id AS uuid), CAST(:buyer AS uuid), 'PLACED', :total, :currency, NULLIF(:token, ''),
        CAST(:created AS timestamptz), CAST(:updated AS timestamptz)))sql";

constexpr const char* kInsertLine = R"sql(
INSERT INTO order_lines_view (order_id, line_no, product_id, quantity, unit_price)
VALUES (CAST(:id AS uuid), :no, CAST(:product AS uuid), :quantity, :price))sql";

constexpr const char* kInsertPlacedStep = R"sql(
INSERT INTO order_steps_view (order_id, seq, at, status, previous_status)
VALUES (CAST(:id AS uuid), 0, CAST(:at AS timestamptz), 'PLACED', 'PLACED'))sql";

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
        const std::string token = payment_token.value_or("");
        view.payment_token = token;
        view.created_us = view.updated_us = micros_of(now);
        view.steps = std::vector<OrderStep>{{"PLACED", "PLACED", "", view.created_us}};

        const long long total = view.total;
        const std::string created = events::format_rfc3339(now);
        sql << kInsertOrder, soci::use(order_id, "id"), soci::use(buyer.user_id, "buyer"),
            soci::use(total, "total"), soci::use(view.currency, "currency"),
            soci::use(token, "token"), soci::use(created, "created"), soci::use(created, "updated");
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

}  // namespace bazaar::edge
