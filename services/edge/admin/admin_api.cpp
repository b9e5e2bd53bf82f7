#include "admin/admin_api.hpp"

#include <soci/soci.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <map>

#include "admin/stats_query.hpp"
#include "catalog/money.hpp"
#include "events/envelope.hpp"
#include "http/problem.hpp"

namespace bazaar::edge {
namespace {

namespace json = boost::json;

constexpr const char* kSnapshots = R"sql(
SELECT metric, CAST(body AS text),
       to_char(as_of AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
FROM stats_snapshots WHERE metric NOT LIKE 'sales.%')sql";

constexpr const char* kUsers =
    "SELECT CAST(count(*) AS bigint) FROM users WHERE deleted_at IS NULL";

constexpr const char* kProducts =
    "SELECT CAST(count(*) AS bigint) FROM products_view WHERE status = 'active'";

constexpr const char* kStatuses[] = {"PLACED",       "AWAITING_STOCK", "AWAITING_PAYMENT",
                                     "COMPENSATING", "CONFIRMED",      "SHIPPED",
                                     "DELIVERED",    "REJECTED",       "CANCELLED"};

// The figures of one sales row as clients see them: amounts in major units.
void add_figures(json::object& row, long long orders, long long units, long long gross,
                 long long refunded) {
  row["orders"] = orders;
  row["units"] = units;
  row["gross"] = from_minor(gross);
  row["refunded"] = from_minor(refunded);
  row["net"] = from_minor(gross - refunded);  // negative when a day's refunds exceed its sales
}

long long int_of(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_int64() ? v->as_int64() : 0;
}

std::string text_of(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string{};
}

const json::array& array_of(const json::object& o, std::string_view key) {
  static const json::array kNone;
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_array() ? v->as_array() : kNone;
}

// A snapshot's "counts" as {name: count}.
json::object counts_of(const json::object& snapshot) {
  json::object out;
  for (const auto& c : array_of(snapshot, "counts")) {
    if (c.is_object()) out[text_of(c.as_object(), "name")] = int_of(c.as_object(), "count");
  }
  return out;
}

// A snapshot's sales row as clients see it.
json::object sales_row(const json::object& s, bool with_product) {
  json::object row;
  if (with_product) {
    row["product_id"] = text_of(s, "product_id");
    row["name"] = text_of(s, "name");
    row["seller_id"] = text_of(s, "seller_id");
  }
  row["currency"] = text_of(s, "currency");
  add_figures(row, int_of(s, "orders"), int_of(s, "units"), int_of(s, "gross"),
              int_of(s, "refunded"));
  return row;
}

// GET /admin/stats from the latest snapshot of every metric, plus edge's own users and
// products. A metric analytics has not published yet reads as zeros.
json::object overview(soci::session& sql) {
  std::map<std::string, json::object> snapshots;
  std::string as_of;
  {
    soci::rowset<soci::row> rows = (sql.prepare << kSnapshots);
    for (const auto& r : rows) {
      json::value body = json::parse(r.get<std::string>(1));
      if (body.is_object()) snapshots[r.get<std::string>(0)] = std::move(body.as_object());
      as_of = std::max(as_of, r.get<std::string>(2));
    }
  }
  const auto metric = [&](const std::string& name) -> const json::object& {
    static const json::object kEmpty;
    const auto it = snapshots.find(name);
    return it == snapshots.end() ? kEmpty : it->second;
  };

  json::array sales;
  std::string top_currency = "EUR";
  long long top_net = -1;
  for (const auto& s : array_of(metric("sales_totals"), "sales")) {
    if (!s.is_object()) continue;
    const auto& o = s.as_object();
    sales.push_back(sales_row(o, false));
    const long long net = int_of(o, "gross") - int_of(o, "refunded");
    if (net > top_net) {
      top_net = net;
      top_currency = text_of(o, "currency");
    }
  }

  json::object by_status;
  const json::object status_counts = counts_of(metric("orders_by_status"));
  for (const char* s : kStatuses) {
    const auto* v = status_counts.if_contains(s);
    by_status[s] = v != nullptr ? v->as_int64() : 0;
  }

  json::object conversion{{"orders", 0}, {"confirmed", 0}, {"rejected", 0}, {"cancelled", 0}};
  for (const auto& [k, v] : counts_of(metric("conversion"))) conversion[k] = v;
  const auto* ratio = metric("conversion").if_contains("ratio");
  conversion["rate"] = ratio != nullptr && ratio->is_number() ? ratio->to_number<double>() : 0.0;

  json::object durations{{"count", 0}, {"p50", 0.0}, {"p95", 0.0}, {"p99", 0.0}};
  if (const auto* d = metric("saga_durations").if_contains("durations");
      d != nullptr && d->is_object()) {
    const auto& o = d->as_object();
    durations["count"] = int_of(o, "count");
    for (const char* p : {"p50", "p95", "p99"}) {
      const auto* v = o.if_contains(std::string(p) + "_ms");
      durations[p] = v != nullptr && v->is_number() ? v->to_number<double>() : 0.0;
    }
  }

  json::array reasons;
  for (const auto& r : array_of(metric("failure_reasons"), "reasons")) {
    if (!r.is_object()) continue;
    const auto& o = r.as_object();
    reasons.push_back(json::object{{"kind", text_of(o, "kind")},
                                   {"reason", text_of(o, "reason")},
                                   {"count", int_of(o, "count")}});
  }

  json::object stock_outs{{"products_out_of_stock", 0}, {"rejections", 0}};
  for (const auto& [k, v] : counts_of(metric("stock_outs"))) stock_outs[k] = v;
  json::array short_products;
  for (const auto& p : array_of(metric("stock_outs"), "products")) {
    if (!p.is_object()) continue;
    const auto& o = p.as_object();
    json::object item{{"product_id", text_of(o, "product_id")},
                      {"name", text_of(o, "name")},
                      {"rejections", int_of(o, "rejections")}};
    if (o.contains("available")) item["available"] = int_of(o, "available");
    short_products.push_back(std::move(item));
  }
  stock_outs["products"] = std::move(short_products);

  json::array top;
  for (const auto& s : array_of(metric("top_products"), "sales")) {
    if (s.is_object()) top.push_back(sales_row(s.as_object(), true));
  }

  long long users = 0;
  sql << kUsers, soci::into(users);
  long long products = 0;
  sql << kProducts, soci::into(products);

  const json::value total_sales = top_net > 0 ? from_minor(top_net) : json::value(0);
  json::object body{{"as_of", as_of.empty() ? json::value(nullptr) : json::value(as_of)},
                    {"total_sales", total_sales},
                    {"currency", top_currency},
                    {"sales", std::move(sales)},
                    {"orders_by_status", std::move(by_status)},
                    {"conversion", std::move(conversion)},
                    {"saga_durations_ms", std::move(durations)},
                    {"failure_reasons", std::move(reasons)},
                    {"stock_outs", std::move(stock_outs)},
                    {"top_products", std::move(top)},
                    {"activity", counts_of(metric("activity"))},
                    {"users", users},
                    {"products", products}};
  return body;
}

// The rows of a sales report: per day, product or seller, never two currencies together.
constexpr const char* kByDay = R"sql(
SELECT CAST(day AS text), currency, orders, units, gross, refunded
FROM stats_sales
WHERE grp = 'currency' AND day BETWEEN CAST(:from AS date) AND CAST(:to AS date)
  AND (:currency = '' OR currency = :currency_again)
ORDER BY day, currency)sql";

constexpr const char* kByGroup = R"sql(
SELECT dim, COALESCE((array_agg(name ORDER BY day DESC))[1], ''),
       COALESCE(CAST((array_agg(seller_id ORDER BY day DESC))[1] AS text), ''), currency,
       CAST(SUM(orders) AS bigint), CAST(SUM(units) AS bigint), CAST(SUM(gross) AS bigint),
       CAST(SUM(refunded) AS bigint)
FROM stats_sales
WHERE grp = :grp AND day BETWEEN CAST(:from AS date) AND CAST(:to AS date)
  AND (:currency = '' OR currency = :currency_again)
  AND (:seller = '' OR seller_id = CAST(NULLIF(:seller_again, '') AS uuid))
GROUP BY dim, currency
ORDER BY SUM(gross) - SUM(refunded) DESC, SUM(units) DESC, dim, currency
LIMIT :limit)sql";

json::array rows_by_day(soci::session& sql, const SalesQuery& q) {
  json::array rows;
  soci::rowset<soci::row> found =
      (sql.prepare << kByDay, soci::use(q.from, "from"), soci::use(q.to, "to"),
       soci::use(q.currency, "currency"), soci::use(q.currency, "currency_again"));
  for (const auto& r : found) {
    json::object row{{"day", r.get<std::string>(0)}, {"currency", r.get<std::string>(1)}};
    add_figures(row, r.get<long long>(2), r.get<long long>(3), r.get<long long>(4),
                r.get<long long>(5));
    rows.push_back(std::move(row));
  }
  return rows;
}

// Rows per product or seller; `seller` keeps only that seller's products.
json::array rows_by(soci::session& sql, const SalesQuery& q, const std::string& grp,
                    const std::string& seller) {
  json::array rows;
  soci::rowset<soci::row> found =
      (sql.prepare << kByGroup, soci::use(grp, "grp"), soci::use(q.from, "from"),
       soci::use(q.to, "to"), soci::use(q.currency, "currency"),
       soci::use(q.currency, "currency_again"), soci::use(seller, "seller"),
       soci::use(seller, "seller_again"), soci::use(q.limit, "limit"));
  for (const auto& r : found) {
    json::object row;
    if (grp == "product") {
      row["product_id"] = r.get<std::string>(0);
      row["name"] = r.get<std::string>(1);
      row["seller_id"] = r.get<std::string>(2);
    } else {
      row["seller_id"] = r.get<std::string>(0);
    }
    row["currency"] = r.get<std::string>(3);
    add_figures(row, r.get<long long>(4), r.get<long long>(5), r.get<long long>(6),
                r.get<long long>(7));
    rows.push_back(std::move(row));
  }
  return rows;
}

std::string today(const ApiContext& api) {
  return events::format_rfc3339(api.clock.now()).substr(0, 10);
}

SalesQuery read_query(const RequestContext& ctx, const ApiContext& api, bool with_grouping,
                      std::vector<FieldError>& errors) {
  return parse_sales_query([&ctx](std::string_view name) { return ctx.request.param(name); },
                           today(api), with_grouping, errors);
}

HttpResponse invalid(std::vector<FieldError> errors) {
  return problem(422, "Unprocessable Content", "some query parameters are invalid",
                 std::move(errors));
}

}  // namespace

void register_admin_routes(Router& router, ApiContext& api) {
  router.add("GET", "/admin/stats", Access::kAdmin, [&api](const RequestContext&) {
    json::object body;
    api.db.read([&](soci::session& sql) { body = overview(sql); });
    return json_response(200, to_json_text(json::value(std::move(body))));
  });

  router.add("GET", "/admin/stats/sales", Access::kAdmin, [&api](const RequestContext& ctx) {
    std::vector<FieldError> errors;
    const SalesQuery q = read_query(ctx, api, true, errors);
    if (!errors.empty()) return invalid(std::move(errors));
    json::array rows;
    api.db.read([&](soci::session& sql) {
      rows = q.group_by == "day" ? rows_by_day(sql, q) : rows_by(sql, q, q.group_by, "");
    });
    json::object body{
        {"from", q.from},
        {"to", q.to},
        {"group_by", q.group_by},
        {"currency", q.currency.empty() ? json::value(nullptr) : json::value(q.currency)},
        {"rows", std::move(rows)}};
    return json_response(200, to_json_text(json::value(std::move(body))));
  });

  router.add("GET", "/sellers/me/stats", Access::kSeller, [&api](const RequestContext& ctx) {
    std::vector<FieldError> errors;
    SalesQuery q = read_query(ctx, api, false, errors);
    if (!errors.empty()) return invalid(std::move(errors));
    const std::string& seller = ctx.principal->user_id;
    json::array sales;
    json::array top;
    api.db.read([&](soci::session& sql) {
      // The seller's own row per currency: an order counts once however many products.
      for (auto& row : rows_by(sql, q, "seller", seller)) {
        row.as_object().erase("seller_id");
        sales.push_back(std::move(row));
      }
      q.limit = 10;
      for (auto& row : rows_by(sql, q, "product", seller)) {
        row.as_object().erase("seller_id");
        top.push_back(std::move(row));
      }
    });
    json::object body{{"seller_id", seller},
                      {"from", q.from},
                      {"to", q.to},
                      {"sales", std::move(sales)},
                      {"top_products", std::move(top)}};
    return json_response(200, to_json_text(json::value(std::move(body))));
  });
}

}  // namespace bazaar::edge
