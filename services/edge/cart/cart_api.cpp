#include "cart/cart_api.hpp"

#include <soci/soci.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <memory>

#include "catalog/money.hpp"
#include "events/envelope.hpp"
#include "events/uuid.hpp"
#include "http/problem.hpp"
#include "http/request_body.hpp"
#include "orders/order_placement.hpp"
#include "pricing.hpp"

namespace bazaar::edge {
namespace {

constexpr const char* kCartItems = R"sql(
SELECT c.product_id::text, p.name, p.price, c.quantity, p.currency
FROM cart_items c JOIN products_view p ON p.product_id = c.product_id
WHERE c.buyer_id = CAST(:buyer AS uuid) AND p.status = 'active'
ORDER BY c.added_at, c.product_id)sql";

constexpr const char* kProduct = R"sql(
SELECT stock, price, currency FROM products_view
WHERE product_id = CAST(:id AS uuid) AND status = 'active')sql";

constexpr const char* kEnsureCart = R"sql(
INSERT INTO carts (buyer_id, created_at, updated_at)
VALUES (CAST(:buyer AS uuid), CAST(:created AS timestamptz), CAST(:updated AS timestamptz))
ON CONFLICT (buyer_id) DO UPDATE SET updated_at = EXCLUDED.updated_at)sql";

// Setting a quantity replaces it; the item keeps its place in the cart.
constexpr const char* kSetItem = R"sql(
INSERT INTO cart_items (buyer_id, product_id, quantity, added_at)
VALUES (CAST(:buyer AS uuid), CAST(:product AS uuid), :quantity, CAST(:at AS timestamptz))
ON CONFLICT (buyer_id, product_id) DO UPDATE SET quantity = EXCLUDED.quantity)sql";

constexpr const char* kRemoveItem = R"sql(
DELETE FROM cart_items WHERE buyer_id = CAST(:buyer AS uuid) AND product_id = CAST(:product AS uuid))sql";

constexpr const char* kEmptyCart = "DELETE FROM cart_items WHERE buyer_id = CAST(:buyer AS uuid)";
constexpr const char* kDeleteCart = "DELETE FROM carts WHERE buyer_id = CAST(:buyer AS uuid)";

// Checkout locks the cart row: two checkouts of one cart cannot both order it.
constexpr const char* kLockCart =
    "SELECT 1 FROM carts WHERE buyer_id = CAST(:buyer AS uuid) FOR UPDATE";

constexpr std::int64_t kMaxCartQuantity = 1000;
constexpr const char* kDefaultCurrency = "EUR";

struct CartItem {
  std::string product_id;
  std::string name;
  std::int64_t unit_price = 0;
  std::int64_t quantity = 0;
  std::string currency;
};

std::vector<CartItem> load_items(soci::session& sql, const std::string& buyer_id) {
  std::vector<CartItem> items;
  soci::rowset<soci::row> rows = (sql.prepare << kCartItems, soci::use(buyer_id, "buyer"));
  for (const auto& r : rows) {
    items.push_back({r.get<std::string>(0), r.get<std::string>(1), r.get<long long>(2),
                     r.get<long long>(3), r.get<std::string>(4)});
  }
  return items;
}

HttpResponse cart_answer(const std::vector<CartItem>& items) {
  boost::json::array list;
  std::int64_t total = 0;
  for (const auto& i : items) {
    // Items are admitted only while the cart's total stays within order::kMaxTotal.
    const std::int64_t line_total = i.unit_price * i.quantity;
    total += line_total;
    list.push_back(boost::json::object{{"product_id", i.product_id},
                                       {"name", i.name},
                                       {"unit_price", from_minor(i.unit_price)},
                                       {"quantity", i.quantity},
                                       {"line_total", from_minor(line_total)}});
  }
  boost::json::object body{{"items", std::move(list)},
                           {"total", from_minor(total)},
                           {"currency", items.empty() ? kDefaultCurrency : items.front().currency}};
  return json_response(200, to_json_text(boost::json::value(std::move(body))));
}

HttpResponse no_product() {
  return problem(404, "Not Found", "no such product");
}

}  // namespace

void register_cart_routes(Router& router, ApiContext& api) {
  auto placement = std::make_shared<OrderPlacement>(api);

  router.add("GET", "/cart", Access::kBuyer, [&api](const RequestContext& ctx) {
    std::vector<CartItem> items;
    api.db.read([&](soci::session& sql) { items = load_items(sql, ctx.principal->user_id); });
    return cart_answer(items);
  });

  router.add("PUT", "/cart/items/{product_id}", Access::kBuyer, [&api](const RequestContext& ctx) {
    const auto product_id = events::Uuid::parse(ctx.params.at("product_id"));
    if (!product_id) return no_product();
    const JsonBody parsed = parse_json_body(ctx.request);
    if (parsed.error) return *parsed.error;
    FieldCheck check(parsed.object);
    const std::int64_t wanted = check.required_int("quantity", 1, kMaxCartQuantity);
    if (!check.ok()) return check.problem();

    HttpResponse answer;
    api.db.transact([&](soci::session& sql, events::OutboxWriter&) {
      const std::string product = product_id->str();
      long long stock = 0;
      long long price = 0;
      std::string currency;
      sql << kProduct, soci::use(product, "id"), soci::into(stock), soci::into(price),
          soci::into(currency);
      if (!sql.got_data()) {
        answer = no_product();
        return;
      }
      // A well-formed request that today's stock cannot meet: a conflict with the product's
      // state (as checking out an empty cart is), not an invalid field.
      if (wanted > stock) {
        answer = problem(409, "Conflict",
                         "quantity is more than the " + std::to_string(stock) + " in stock",
                         {{"quantity", "is more than the " + std::to_string(stock) + " in stock"}});
        return;
      }
      // The cart is ordered whole: one currency, and a total an order may have.
      std::int64_t others = 0;
      for (const auto& item : load_items(sql, ctx.principal->user_id)) {
        if (item.product_id == product) continue;
        if (item.currency != currency) {
          answer = problem(409, "Conflict",
                           "the cart holds items priced in " + item.currency +
                               " and this product is priced in " + currency +
                               "; an order is paid in one currency");
          return;
        }
        others += item.unit_price * item.quantity;  // each item was admitted within the limit
      }
      if (price > 0 && wanted > (order::kMaxTotal - others) / price) {
        answer = problem(409, "Conflict",
                         "the cart's total would pass what one order may hold (10000000000000)",
                         {{"quantity", "takes the cart's total past what one order may hold"}});
        return;
      }
      const std::string now = events::format_rfc3339(api.clock.now());
      const long long quantity = wanted;
      sql << kEnsureCart, soci::use(ctx.principal->user_id, "buyer"), soci::use(now, "created"),
          soci::use(now, "updated");
      sql << kSetItem, soci::use(ctx.principal->user_id, "buyer"), soci::use(product, "product"),
          soci::use(quantity, "quantity"), soci::use(now, "at");
      answer = cart_answer(load_items(sql, ctx.principal->user_id));
    });
    return answer;
  });

  router.add("DELETE", "/cart/items/{product_id}", Access::kBuyer,
             [&api](const RequestContext& ctx) {
               const auto product_id = events::Uuid::parse(ctx.params.at("product_id"));
               if (!product_id) return no_product();
               HttpResponse answer;
               api.db.transact([&](soci::session& sql, events::OutboxWriter&) {
                 const std::string product = product_id->str();
                 sql << kRemoveItem, soci::use(ctx.principal->user_id, "buyer"),
                     soci::use(product, "product");
                 answer = cart_answer(load_items(sql, ctx.principal->user_id));
               });
               return answer;
             });

  router.add("DELETE", "/cart", Access::kBuyer, [&api](const RequestContext& ctx) {
    api.db.transact([&](soci::session& sql, events::OutboxWriter&) {
      sql << kDeleteCart, soci::use(ctx.principal->user_id, "buyer");
    });
    HttpResponse r;
    r.status = 204;
    r.content_type.clear();
    return r;
  });

  router.add("POST", "/cart/checkout", Access::kBuyer, [placement](const RequestContext& ctx) {
    const JsonBody parsed = parse_json_body(ctx.request);
    if (parsed.error) return *parsed.error;
    FieldCheck check(parsed.object);
    // Without a token the order waits for POST /orders/{id}/payment.
    const auto token = check.optional_string("payment_token", 1, 200);
    if (!check.ok()) return check.problem();
    const std::string buyer_id = ctx.principal->user_id;
    return placement->place(
        ctx, parsed.object, token,
        [&buyer_id](soci::session& sql) {
          int locked = 0;
          sql << kLockCart, soci::use(buyer_id, "buyer"), soci::into(locked);
          PlaceLines out;
          for (const auto& item : load_items(sql, buyer_id)) {
            out.lines.push_back({item.product_id, item.quantity});
          }
          if (out.lines.empty()) {
            out.problem = problem(409, "Conflict", "the cart is empty");
          }
          return out;
        },
        [&buyer_id](soci::session& sql) { sql << kEmptyCart, soci::use(buyer_id, "buyer"); });
  });
}

}  // namespace bazaar::edge
