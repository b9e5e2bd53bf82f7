// Analytics end to end: the aggregates agree with what the order and payment databases say,
// currencies apart; edge answers the stats from its projection of analytics.events and tells
// admins live; a replay from scratch gives the same aggregates; duplicates and events about
// unknown orders or products never stop the stream.
#include <doctest/doctest.h>
#include <soci/soci.h>

#include <boost/json/serialize.hpp>
#include <map>

#include "shop_api.hpp"

using namespace bazaar;
using namespace bazaar::e2e;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

// A test currency (ISO 4217 "XTS") for events sent straight to the topics: the checks
// against the databases leave it out.
constexpr const char* kTestCurrency = "XTS";

struct Figures {
  long long orders = 0;
  long long units = 0;
  long long gross = 0;
  long long refunded = 0;
  bool operator==(const Figures&) const = default;
};

std::string describe(const std::map<std::string, Figures>& m) {
  std::string out;
  for (const auto& [c, f] : m) {
    out += c + ": orders " + std::to_string(f.orders) + " units " + std::to_string(f.units) +
           " gross " + std::to_string(f.gross) + " refunded " + std::to_string(f.refunded) + "; ";
  }
  return out;
}

long long minor(const json::value& v) {
  return std::llround(v.to_number<double>() * 100.0);
}

// Sales per currency by the databases: every order that ever confirmed (its saga log says so),
// its lines' units, and what payment refunded of it.
std::map<std::string, Figures> expected_sales(System& system) {
  std::map<std::string, Figures> out;
  std::map<std::string, std::string> currency_of;
  soci::rowset<soci::row> orders = (system.db("order").prepare << R"sql(
SELECT CAST(o.order_id AS text), o.currency, o.total,
       (SELECT CAST(COALESCE(SUM(quantity), 0) AS bigint) FROM order_lines l
        WHERE l.order_id = o.order_id)
FROM orders o
WHERE EXISTS (SELECT 1 FROM saga_steps s WHERE s.order_id = o.order_id
              AND s.to_status = 'CONFIRMED'))sql");
  for (const auto& r : orders) {
    auto& f = out[r.get<std::string>(1)];
    f.orders += 1;
    f.gross += r.get<long long>(2);
    f.units += r.get<long long>(3);
    currency_of[r.get<std::string>(0)] = r.get<std::string>(1);
  }
  soci::rowset<soci::row> refunds = (system.db("payment").prepare << R"sql(
SELECT CAST(order_id AS text), CAST(refunded_amount AS bigint) FROM payments
WHERE refunded_amount > 0)sql");
  for (const auto& r : refunds) {
    const auto it = currency_of.find(r.get<std::string>(0));
    if (it != currency_of.end()) out[it->second].refunded += r.get<long long>(1);
  }
  return out;
}

// Sales per currency as GET /admin/stats reports them (the test currency left out).
std::map<std::string, Figures> reported_sales(Api& api, const std::string& admin) {
  std::map<std::string, Figures> out;
  const auto r = api.http.get("/admin/stats", admin);
  if (r.status != 200) return out;
  const json::value r_body = r.json();
  for (const auto& s : r_body.at("sales").as_array()) {
    const auto& o = s.as_object();
    const std::string currency(o.at("currency").as_string());
    if (currency == kTestCurrency) continue;
    out[currency] = {o.at("orders").to_number<long long>(), o.at("units").to_number<long long>(),
                     minor(o.at("gross")), minor(o.at("refunded"))};
  }
  return out;
}

std::map<std::string, long long> expected_statuses(System& system) {
  std::map<std::string, long long> out;
  soci::rowset<soci::row> rows =
      (system.db("order").prepare << "SELECT status, CAST(count(*) AS bigint) FROM orders "
                                     "GROUP BY status");
  for (const auto& r : rows) out[r.get<std::string>(0)] = r.get<long long>(1);
  return out;
}

std::map<std::string, long long> reported_statuses(Api& api, const std::string& admin) {
  std::map<std::string, long long> out;
  const auto r = api.http.get("/admin/stats", admin);
  if (r.status != 200) return out;
  const json::value r_body = r.json();
  for (const auto& [k, v] : r_body.at("orders_by_status").as_object()) {
    if (v.as_int64() != 0) out[std::string(k)] = v.as_int64();
  }
  return out;
}

// Every table of the analytics database that holds aggregates, as one text.
std::string aggregates(System& system) {
  std::string out;
  for (const char* query :
       {"SELECT string_agg(concat_ws(',', day, grp, dim, currency, orders, units, gross, "
        "refunded), ';' ORDER BY day, grp, dim, currency) FROM daily_sales",
        "SELECT string_agg(concat_ws(',', product_id, currency, orders, units, gross, refunded),"
        " ';' ORDER BY product_id, currency) FROM product_sales",
        "SELECT string_agg(concat_ws(',', metric, name, count), ';' ORDER BY metric, name) "
        "FROM counters",
        "SELECT string_agg(concat_ws(',', kind, reason, count), ';' ORDER BY kind, reason) "
        "FROM failure_reasons",
        "SELECT string_agg(concat_ws(',', bucket, count), ';' ORDER BY bucket) "
        "FROM duration_buckets",
        "SELECT string_agg(concat_ws(',', order_id, status, confirmed), ';' ORDER BY order_id) "
        "FROM orders"}) {
    std::string part;
    soci::indicator ind = soci::i_ok;
    system.db("analytics") << query, soci::into(part, ind);
    out += (ind == soci::i_null ? std::string("-") : part) + "\n";
  }
  return out;
}

Env fast_snapshots() {
  return {{"BAZAAR_ANALYTICS_SNAPSHOT_INTERVAL_MS", "300"}};
}

}  // namespace

TEST_CASE("analytics agrees with the order and payment databases and keeps currencies apart") {
  // One payment attempt: a declined card cancels the order at once.
  Api api(true, fast_snapshots(), {{"order", {{"BAZAAR_ORDER_PAYMENT_ATTEMPTS", "1"}}}});
  const std::string admin = api.admin_token();
  WebSocketClient live(api.port, "/ws", admin);
  REQUIRE(live.open());

  const auto [seller_id, seller] = api.user("seller");
  const auto [buyer_id, buyer] = api.user("buyer");
  const std::string teapot = api.product(seller, 12.5, 10, "Teapot", "EUR");
  const std::string kettle = api.product(seller, 7.25, 3, "Kettle", "USD");

  CHECK(api.order(buyer, teapot, 2, "tok_ok").at("status").as_string() == "CONFIRMED");
  CHECK(api.order(buyer, teapot, 1, "tok_ok").at("status").as_string() == "CONFIRMED");
  CHECK(api.order(buyer, kettle, 1, "tok_ok").at("status").as_string() == "CONFIRMED");
  CHECK(api.order(buyer, teapot, 1, "tok_decline").at("status").as_string() == "CANCELLED");
  CHECK(api.order(buyer, kettle, 50, "tok_ok").at("status").as_string() == "REJECTED");
  // Confirmed, then cancelled by the buyer: the whole amount comes back.
  const std::string refunded_id(api.order(buyer, teapot, 1, "tok_ok").at("id").as_string());
  REQUIRE(api.wait_order_status(buyer, refunded_id) == "CONFIRMED");
  const auto cancel = api.http.post("/orders/" + refunded_id + "/cancel", json::object{}, buyer);
  REQUIRE_MESSAGE(cancel.status == 202, cancel.body);
  REQUIRE(tests::wait_until(30s, [&] {
    long long refunded = 0;
    api.system.db("payment") << "SELECT refunded_amount FROM payments "
                                "WHERE order_id = CAST(:id AS uuid)",
        soci::use(refunded_id), soci::into(refunded);
    return refunded == 1250;
  }));

  // Every aggregate equals what the databases say, once analytics and edge caught up.
  std::map<std::string, Figures> expected;
  std::map<std::string, Figures> reported;
  const bool sales_agree = tests::wait_until(60s, [&] {
    expected = expected_sales(api.system);
    reported = reported_sales(api, admin);
    return expected == reported;
  });
  CHECK_MESSAGE(sales_agree,
                "databases: " << describe(expected) << "\n/admin/stats: " << describe(reported));
  CHECK(expected.contains("EUR"));
  CHECK(expected.contains("USD"));
  std::map<std::string, long long> statuses;
  std::map<std::string, long long> counted;
  const bool statuses_agree = tests::wait_until(30s, [&] {
    statuses = expected_statuses(api.system);
    counted = reported_statuses(api, admin);
    return statuses == counted;
  });
  CHECK(statuses_agree);

  // Each metric is a record of its own, keyed by its name, so the partitions of the snapshots
  // taken together can reach edge apart: wait until the ones below caught up too.
  const bool snapshots_caught_up = tests::wait_until(30s, [&] {
    const auto all = api.http.get("/admin/stats", admin);
    const auto day = api.http.get("/admin/stats/sales?group_by=day&from=2020-01-01", admin);
    const auto product = api.http.get("/admin/stats/sales?group_by=product&from=2020-01-01", admin);
    if (all.status != 200 || day.status != 200 || product.status != 200) return false;
    const json::value all_body = all.json();
    const json::value day_body = day.json();
    const json::value product_body = product.json();
    const auto& a = all_body.as_object();
    if (json::serialize(a.at("failure_reasons")).find(R"("kind":"rejected")") ==
            std::string::npos ||
        json::serialize(a.at("stock_outs")).find(kettle) == std::string::npos) {
      return false;
    }
    std::map<std::string, Figures> by_day;
    for (const auto& row : day_body.at("rows").as_array()) {
      const auto& o = row.as_object();
      if (o.at("currency").as_string() == kTestCurrency) continue;
      auto& f = by_day[std::string(o.at("currency").as_string())];
      f.orders += o.at("orders").as_int64();
      f.units += o.at("units").as_int64();
      f.gross += minor(o.at("gross"));
      f.refunded += minor(o.at("refunded"));
    }
    if (by_day != expected) return false;
    for (const auto& row : product_body.at("rows").as_array()) {
      const auto& o = row.as_object();
      if (o.at("product_id").as_string() == teapot) {
        return o.at("units").as_int64() == 4 && minor(o.at("refunded")) == 1250 &&
               o.at("name").as_string() == "Teapot";
      }
    }
    return false;
  });
  CHECK(snapshots_caught_up);

  const auto stats = api.http.get("/admin/stats", admin).json().as_object();
  const auto& conversion = stats.at("conversion").as_object();
  CHECK(conversion.at("confirmed").as_int64() > 0);
  CHECK(conversion.at("rate").to_number<double>() > 0.0);
  CHECK(conversion.at("rate").to_number<double>() <= 1.0);
  const auto& durations = stats.at("saga_durations_ms").as_object();
  CHECK(durations.at("count").as_int64() > 0);
  CHECK(durations.at("p50").to_number<double>() > 0.0);
  CHECK(durations.at("p50").to_number<double>() <= durations.at("p95").to_number<double>());
  CHECK(durations.at("p95").to_number<double>() <= durations.at("p99").to_number<double>());
  const std::string reasons = json::serialize(stats.at("failure_reasons"));
  CHECK(reasons.find(R"("kind":"declined","reason":"insufficient_funds")") != std::string::npos);
  CHECK(reasons.find(R"("kind":"rejected")") != std::string::npos);
  const std::string stock_outs = json::serialize(stats.at("stock_outs"));
  CHECK(stock_outs.find(kettle) != std::string::npos);
  CHECK(json::serialize(stats.at("top_products")).find(teapot) != std::string::npos);
  CHECK(stats.at("as_of").is_string());

  // The admin's session was told as snapshots arrived.
  bool told = false;
  for (int i = 0; i < 50 && !told; ++i) {
    const std::string frame = live.next(2s);
    if (frame.empty()) break;
    told = frame.find(R"("type":"stats")") != std::string::npos;
  }
  CHECK(told);

  // The day rows add up to the totals, per currency.
  const auto by_day = api.http.get("/admin/stats/sales?group_by=day&from=2020-01-01", admin);
  REQUIRE_MESSAGE(by_day.status == 200, by_day.body);
  std::map<std::string, Figures> summed;
  const json::value by_day_body = by_day.json();
  for (const auto& row : by_day_body.at("rows").as_array()) {
    const auto& o = row.as_object();
    const std::string currency(o.at("currency").as_string());
    if (currency == kTestCurrency) continue;
    auto& f = summed[currency];
    f.orders += o.at("orders").as_int64();
    f.units += o.at("units").as_int64();
    f.gross += minor(o.at("gross"));
    f.refunded += minor(o.at("refunded"));
    CHECK(minor(o.at("net")) == minor(o.at("gross")) - minor(o.at("refunded")));
  }
  CHECK_MESSAGE(summed == expected, "by day: " << describe(summed));

  // Per product and per seller, in the product's own currency.
  const auto by_product =
      api.http.get("/admin/stats/sales?group_by=product&from=2020-01-01", admin);
  REQUIRE(by_product.status == 200);
  bool teapot_seen = false;
  const json::value by_product_body = by_product.json();
  for (const auto& row : by_product_body.at("rows").as_array()) {
    const auto& o = row.as_object();
    if (o.at("product_id").as_string() != teapot) continue;
    teapot_seen = true;
    CHECK(o.at("currency").as_string() == "EUR");
    CHECK(o.at("units").as_int64() == 4);  // 2 + 1 + the refunded 1
    CHECK(minor(o.at("gross")) == 5000);
    CHECK(minor(o.at("refunded")) == 1250);
    CHECK(o.at("name").as_string() == "Teapot");
    CHECK(o.at("seller_id").as_string() == seller_id);
  }
  CHECK(teapot_seen);
  const auto usd_only = api.http.get("/admin/stats/sales?group_by=seller&currency=USD", admin);
  REQUIRE(usd_only.status == 200);
  bool seller_seen = false;
  const json::value usd_only_body = usd_only.json();
  for (const auto& row : usd_only_body.at("rows").as_array()) {
    CHECK(row.at("currency").as_string() == "USD");
    if (row.at("seller_id").as_string() == seller_id) {
      seller_seen = true;
      CHECK(minor(row.at("gross")) == 725);
    }
  }
  CHECK(seller_seen);

  // A seller sees their own figures, per currency.
  const auto mine = api.http.get("/sellers/me/stats", seller);
  REQUIRE_MESSAGE(mine.status == 200, mine.body);
  std::map<std::string, long long> net_by_currency;
  const json::value mine_body = mine.json();
  for (const auto& row : mine_body.at("sales").as_array()) {
    net_by_currency[std::string(row.at("currency").as_string())] = minor(row.at("net"));
  }
  CHECK(net_by_currency == std::map<std::string, long long>{{"EUR", 3750}, {"USD", 725}});
  CHECK(mine_body.at("top_products").as_array().size() == 2);

  // Who may ask, and what they may ask.
  CHECK(api.http.get("/admin/stats/sales", buyer).status == 403);
  CHECK(api.http.get("/sellers/me/stats", buyer).status == 403);
  const auto bad = api.http.get("/admin/stats/sales?group_by=week&from=2026-02-30", admin);
  CHECK(bad.status == 422);
  CHECK(bad.body.find("group_by") != std::string::npos);
  CHECK(bad.body.find("from") != std::string::npos);
}

TEST_CASE("a replay from scratch gives the same aggregates and odd events never stop the stream") {
  Api api(true, fast_snapshots());
  const std::string admin = api.admin_token();
  const auto [seller_id, seller] = api.user("seller");
  const auto [buyer_id, buyer] = api.user("buyer");
  const std::string teapot = api.product(seller, 9.5, 5, "Teapot", "EUR");
  CHECK(api.order(buyer, teapot, 1, "tok_ok").at("status").as_string() == "CONFIRMED");

  // Sent straight to the topics: a confirmation of an order analytics never saw placed (in the
  // test currency), delivered twice with the same ce_id; a refund of an order that never
  // confirmed; a stock rejection of a product analytics does not know.
  const std::string stranger = api.bus.new_id();
  const std::string unknown_product = api.bus.new_id();
  api.bus.send("order.events", "bazaar.order.OrderConfirmed.v1", stranger,
               {{"order_id", stranger},
                {"buyer_id", buyer_id},
                {"lines", json::array{json::object{{"product_id", unknown_product},
                                                   {"quantity", 3},
                                                   {"unit_price", 100},
                                                   {"seller_id", seller_id}}}},
                {"total", 300},
                {"currency", kTestCurrency}},
               true);
  const std::string never_confirmed = api.bus.new_id();
  api.bus.send("payment.events", "bazaar.payment.PaymentRefunded.v1", never_confirmed,
               {{"order_id", never_confirmed},
                {"payment_id", api.bus.new_id()},
                {"amount", 999},
                {"currency", kTestCurrency}});
  api.bus.send(
      "inventory.events", "bazaar.inventory.StockRejected.v1", never_confirmed,
      {{"order_id", never_confirmed},
       {"reason", "out_of_stock"},
       {"shortages", json::array{json::object{
                         {"product_id", unknown_product}, {"requested", 2}, {"available", 0}}}}});

  // The stranger's sale counts once, the refund of a never-confirmed order not at all.
  Figures test_currency;
  const bool counted_once = tests::wait_until(60s, [&] {
    const auto r = api.http.get("/admin/stats", admin);
    if (r.status != 200) return false;
    const json::value r_body = r.json();
    for (const auto& s : r_body.at("sales").as_array()) {
      if (s.at("currency").as_string() != kTestCurrency) continue;
      test_currency = {s.at("orders").as_int64(), s.at("units").as_int64(), minor(s.at("gross")),
                       minor(s.at("refunded"))};
    }
    return test_currency.orders > 0 &&
           json::serialize(r_body.at("stock_outs")).find(unknown_product) != std::string::npos;
  });
  REQUIRE(counted_once);
  CHECK(test_currency.gross % 300 == 0);
  CHECK(test_currency.refunded == 0);
  const auto expected = expected_sales(api.system);
  REQUIRE(tests::wait_until(60s, [&] { return reported_sales(api, admin) == expected; }));
  // Nothing was dead-lettered on the way.
  const Run dead = bazaarctl({"dlq", "list", "--group", "analytics"});
  CHECK(dead.code == 0);
  CHECK(dead.out.find("OrderConfirmed") == std::string::npos);
  CHECK(dead.out.find("StockRejected") == std::string::npos);

  // Replay: stop analytics, empty its aggregates and inbox, reset its group, start it again.
  const std::string before = aggregates(api.system);
  const auto stats_before = reported_sales(api, admin);
  api.system.stop("analytics");
  api.system.db("analytics")
      << "TRUNCATE orders, sale_lines, pending_refunds, daily_sales, product_sales, counters, "
         "failure_reasons, duration_buckets, products, dirty_metrics, snapshots";
  api.system.db("analytics") << "DELETE FROM inbox WHERE consumer = 'analytics'";
  REQUIRE(aggregates(api.system) != before);
  const Run reset = bazaarctl({"projection", "rebuild", "analytics"});
  REQUIRE_MESSAGE(reset.code == 0, reset.out);
  api.system.start("analytics");
  std::string after;
  const bool same = tests::wait_until(120s, [&] {
    after = aggregates(api.system);
    return after == before;
  });
  CHECK_MESSAGE(same, "before:\n" << before << "after:\n" << after);
  // Edge takes the rebuilt snapshots (their sequence keeps growing) and reports the same.
  CHECK(tests::wait_until(30s, [&] { return reported_sales(api, admin) == stats_before; }));
}
