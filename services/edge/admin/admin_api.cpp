#include "admin/admin_api.hpp"

#include <soci/soci.h>

#include <boost/json/object.hpp>

#include "catalog/money.hpp"
#include "http/problem.hpp"

namespace bazaar::edge {
namespace {

// Sales count once stock is sold and money taken: CONFIRMED and what follows it. With several
// currencies the one with the most sales is reported (the catalog sells in one currency).
constexpr const char* kSales = R"sql(
SELECT currency, CAST(SUM(total) AS bigint) FROM orders_view
WHERE status IN ('CONFIRMED', 'SHIPPED', 'DELIVERED')
GROUP BY currency ORDER BY SUM(total) DESC, currency LIMIT 1)sql";

constexpr const char* kByStatus =
    "SELECT status, CAST(count(*) AS bigint) FROM orders_view GROUP BY status";

constexpr const char* kUsers =
    "SELECT CAST(count(*) AS bigint) FROM users WHERE deleted_at IS NULL";

constexpr const char* kProducts =
    "SELECT CAST(count(*) AS bigint) FROM products_view WHERE status = 'active'";

// A saga's duration runs from the posting to its first outcome (settled_at), so a later
// shipment or cancellation does not stretch it.
constexpr const char* kDurations = R"sql(
SELECT CAST(count(*) AS bigint),
       COALESCE(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms), 0),
       COALESCE(percentile_cont(0.95) WITHIN GROUP (ORDER BY ms), 0),
       COALESCE(MAX(ms), 0)
FROM (SELECT CAST(extract(epoch FROM settled_at - created_at) * 1000 AS double precision) AS ms
      FROM orders_view WHERE settled_at IS NOT NULL) AS settled)sql";

constexpr const char* kStatuses[] = {"PLACED",       "AWAITING_STOCK", "AWAITING_PAYMENT",
                                     "COMPENSATING", "CONFIRMED",      "SHIPPED",
                                     "DELIVERED",    "REJECTED",       "CANCELLED"};

}  // namespace

void register_admin_routes(Router& router, ApiContext& api) {
  router.add("GET", "/admin/stats", Access::kAdmin, [&api](const RequestContext&) {
    boost::json::object body;
    api.db.read([&](soci::session& sql) {
      std::string currency = "EUR";
      long long sales = 0;
      sql << kSales, soci::into(currency), soci::into(sales);
      if (!sql.got_data()) {
        currency = "EUR";
        sales = 0;
      }

      boost::json::object by_status;
      // Every status appears, zeros included, so clients need not guess the absent ones.
      for (const char* s : kStatuses) by_status[s] = 0;
      {
        soci::rowset<soci::row> rows = (sql.prepare << kByStatus);
        for (const auto& r : rows) by_status[r.get<std::string>(0)] = r.get<long long>(1);
      }

      long long users = 0;
      sql << kUsers, soci::into(users);
      long long products = 0;
      sql << kProducts, soci::into(products);

      long long settled = 0;
      double p50 = 0;
      double p95 = 0;
      double max = 0;
      sql << kDurations, soci::into(settled), soci::into(p50), soci::into(p95), soci::into(max);

      body = {{"total_sales", from_minor(sales)},
              {"currency", currency},
              {"orders_by_status", std::move(by_status)},
              {"users", users},
              {"products", products},
              {"saga_durations_ms", boost::json::object{{"p50", p50}, {"p95", p95}, {"max", max}}}};
    });
    return json_response(200, to_json_text(boost::json::value(std::move(body))));
  });
}

}  // namespace bazaar::edge
