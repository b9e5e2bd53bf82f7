// AnalyticsStore against the real PostgreSQL: the statements that read the value they replace,
// and the tally that writes a transaction's counters and sales once, before the commit.
#include "analytics_store.hpp"

#include <doctest/doctest.h>
#include <soci/soci.h>

#include <cctype>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "analytics_rules.hpp"
#include "events/clock.hpp"
#include "events/db.hpp"
#include "events/migrations.hpp"
#include "events/uuid.hpp"
#include "harness.hpp"

using namespace bazaar;

namespace {

struct Fixture {
  Fixture()
      : db(tests::required_env("BAZAAR_TEST_DB")),
        ids(clock, events::system_random()),
        sql(db.session()) {
    events::migrate(db, "analytics", events::load_migrations(BAZAAR_ANALYTICS_MIGRATIONS_DIR));
    db.exec_script(
        "TRUNCATE orders, sale_lines, pending_refunds, daily_sales, product_sales, counters, "
        "failure_reasons, duration_buckets, products, dirty_metrics");
  }

  // Runs `work` in one transaction with a fresh tally and ledger, flushed before the commit.
  template <typename Work>
  void in_transaction(Work work) {
    soci::transaction tx(sql);
    analytics::Tally tally;
    analytics::Ledger ledger;
    analytics::AnalyticsStore store(sql, tally, ledger);
    work(store);
    ledger.flush(sql);
    tally.flush(sql);
    tx.commit();
  }

  // The number `query` returns, its parameters :v1, :v2... bound to `values` in order.
  long long number(const std::string& query, const std::vector<std::string>& values) {
    long long out = 0;
    soci::statement st(sql);
    st.exchange(soci::into(out));
    for (std::size_t i = 0; i < values.size(); ++i) {
      st.exchange(soci::use(values[i], "v" + std::to_string(i + 1)));
    }
    st.alloc();
    st.prepare(query);
    st.define_and_bind();
    st.execute(true);
    return out;
  }

  // Whether `metric` is marked dirty; the mark is taken away.
  bool take_dirty(const std::string& metric) {
    const long long marked =
        number("SELECT count(*) FROM dirty_metrics WHERE metric = :v1", {metric});
    sql << "DELETE FROM dirty_metrics";
    return marked > 0;
  }

  long long counter(const std::string& metric, const std::string& name) {
    return number("SELECT COALESCE(sum(count), 0) FROM counters WHERE metric = :v1 AND name = :v2",
                  {metric, name});
  }

  events::Database db;
  events::SystemClock clock;
  events::UuidV7Generator ids;
  soci::session& sql;
};

}  // namespace

TEST_CASE("a stock level marks the stock-outs only when it moves to or from zero") {
  Fixture f;
  const std::string lamp = f.ids.next().str();
  const auto level = [&](long long available) {
    f.in_transaction([&](analytics::AnalyticsStore& st) { st.stock_level(lamp, available); });
    CHECK(f.number("SELECT available FROM products WHERE product_id = CAST(:v1 AS uuid)", {lamp}) ==
          available);
    return f.take_dirty("stock_outs");
  };
  CHECK_FALSE(level(7));  // a new product in stock
  CHECK(level(0));        // sold out
  CHECK_FALSE(level(0));  // still out
  CHECK(level(5));        // back in stock
  CHECK_FALSE(level(3));
  const std::string vase = f.ids.next().str();
  f.in_transaction([&](analytics::AnalyticsStore& st) { st.stock_level(vase, 0); });
  CHECK(f.take_dirty("stock_outs"));  // a new product that has none
}

TEST_CASE("an order counts once when new and moves between statuses") {
  Fixture f;
  const std::string order = f.ids.next().str();
  const auto status = [&](const std::string& s, std::optional<analytics::Moment> placed = {}) {
    f.in_transaction([&](analytics::AnalyticsStore& st) { st.order_status(order, s, placed); });
  };
  status("PLACED", analytics::Moment{"2026-12-01T10:00:00.000Z", 1'796'119'200'000});
  CHECK(f.counter("conversion", "orders") == 1);
  CHECK(f.counter("orders_by_status", "PLACED") == 1);
  status("AWAITING_STOCK");
  status("AWAITING_STOCK");  // a repeat moves nothing
  CHECK(f.counter("conversion", "orders") == 1);
  CHECK(f.counter("orders_by_status", "PLACED") == 0);
  CHECK(f.counter("orders_by_status", "AWAITING_STOCK") == 1);
  CHECK(f.number("SELECT count(*) FROM orders WHERE order_id = CAST(:v1 AS uuid) "
                 "AND status = 'AWAITING_STOCK' AND placed_at IS NOT NULL",
                 {order}) == 1);

  // An order first heard of after its placement counts as new all the same.
  const std::string late = f.ids.next().str();
  f.in_transaction([&](analytics::AnalyticsStore& st) { st.order_status(late, "CONFIRMED"); });
  CHECK(f.counter("conversion", "orders") == 2);
  CHECK(f.counter("orders_by_status", "CONFIRMED") == 1);
}

TEST_CASE("a transaction writes each order and stock level once, whatever its records change") {
  Fixture f;
  const std::string order = f.ids.next().str();
  const std::string lamp = f.ids.next().str();
  // Runs `work` in one transaction and returns how many rows of orders and of products its
  // ledger inserted and updated: PostgreSQL's counts of this backend while the transaction runs
  // (they include earlier transactions it has not reported yet, so only differences tell).
  using Counts = std::pair<long long, long long>;
  const auto written = [&](const std::string& table) {
    return Counts{
        f.number(
            "SELECT n_tup_ins FROM pg_stat_xact_user_tables WHERE relid = CAST(:v1 AS regclass)",
            {table}),
        f.number(
            "SELECT n_tup_upd FROM pg_stat_xact_user_tables WHERE relid = CAST(:v1 AS regclass)",
            {table})};
  };
  const auto counted = [&](auto work) {
    soci::transaction tx(f.sql);
    analytics::Tally tally;
    analytics::Ledger ledger;
    analytics::AnalyticsStore st(f.sql, tally, ledger);
    const Counts orders = written("orders");
    const Counts products = written("products");
    work(st, ledger);
    ledger.flush(f.sql);
    tally.flush(f.sql);
    const Counts orders_now = written("orders");
    const Counts products_now = written("products");
    tx.commit();
    return std::pair{
        Counts{orders_now.first - orders.first, orders_now.second - orders.second},
        Counts{products_now.first - products.first, products_now.second - products.second}};
  };
  const std::int64_t placed_ms = 1'764'583'200'000;  // 2025-12-01T10:00:00Z
  const auto first = counted([&](analytics::AnalyticsStore& st, analytics::Ledger&) {
    st.order_status(order, "PLACED", analytics::Moment{"2025-12-01T10:00:00.000Z", placed_ms});
    st.order_status(order, "AWAITING_STOCK");
    st.stock_level(lamp, 4);
    st.order_status(order, "AWAITING_PAYMENT");
    st.stock_level(lamp, 0);
    st.order_status(order, "CONFIRMED");
    st.order_outcome(order, {"2025-12-01T10:00:01.500Z", placed_ms + 1500});
    st.order_outcome(order, {"2025-12-01T10:00:09.000Z", placed_ms + 9000});  // not the first
    CHECK(st.confirm(order, "EUR"));
    CHECK_FALSE(st.confirm(order, "EUR"));
    CHECK(st.is_confirmed(order));
  });
  CHECK(first.first == Counts{1, 0});   // orders
  CHECK(first.second == Counts{1, 0});  // products
  CHECK(f.counter("conversion", "orders") == 1);
  CHECK(f.counter("orders_by_status", "CONFIRMED") == 1);
  CHECK(f.counter("orders_by_status", "PLACED") == 0);
  CHECK(f.counter("orders_by_status", "AWAITING_PAYMENT") == 0);
  CHECK(f.number("SELECT count FROM duration_buckets WHERE bucket = CAST(:v1 AS integer)",
                 {std::to_string(analytics::duration_bucket(1500))}) == 1);
  CHECK(f.number("SELECT sum(count) FROM duration_buckets", {}) == 1);
  CHECK(f.number("SELECT count(*) FROM orders WHERE order_id = CAST(:v1 AS uuid) AND "
                 "status = 'CONFIRMED' AND confirmed AND currency = 'EUR' AND "
                 "placed_at = CAST('2025-12-01T10:00:00Z' AS timestamptz) AND "
                 "outcome_at = CAST('2025-12-01T10:00:01.5Z' AS timestamptz)",
                 {order}) == 1);
  CHECK(f.number("SELECT available FROM products WHERE product_id = CAST(:v1 AS uuid)", {lamp}) ==
        0);
  CHECK(f.take_dirty("stock_outs"));

  // A batch's rows locked up front: the rows written come back as they were.
  const auto second = counted([&](analytics::AnalyticsStore& st, analytics::Ledger& ledger) {
    ledger.lock(f.sql, {order, f.ids.next().str()}, {lamp});
    CHECK(st.refund_increment(order, 300) == 300);
    CHECK(st.refund_increment(order, 200) == 0);  // an older total
    st.order_status(order, "CANCELLED");
    st.order_outcome(order, {"2025-12-01T10:00:30.000Z", placed_ms + 30'000});
    st.stock_level(lamp, 2);
  });
  CHECK(second.first == Counts{0, 1});
  CHECK(second.second == Counts{0, 1});
  CHECK(f.counter("conversion", "orders") == 1);
  CHECK(f.counter("orders_by_status", "CONFIRMED") == 0);
  CHECK(f.counter("orders_by_status", "CANCELLED") == 1);
  CHECK(f.number("SELECT sum(count) FROM duration_buckets", {}) == 1);
  CHECK(f.number("SELECT count(*) FROM orders WHERE order_id = CAST(:v1 AS uuid) AND "
                 "status = 'CANCELLED' AND confirmed AND refunded = 300 AND "
                 "placed_at = CAST('2025-12-01T10:00:00Z' AS timestamptz) AND "
                 "outcome_at = CAST('2025-12-01T10:00:01.5Z' AS timestamptz)",
                 {order}) == 1);
  CHECK(f.number("SELECT count(*) FROM orders", {}) == 1);  // the unknown order stays unknown
  CHECK(f.take_dirty("stock_outs"));
}

TEST_CASE("the sales of a transaction go in summed, one row per key, with the last name given") {
  Fixture f;
  const std::string lamp = f.ids.next().str();
  const std::string seller = f.ids.next().str();
  const std::string day = "2026-12-01";
  f.in_transaction([&](analytics::AnalyticsStore& st) {
    st.add_sale(f.ids.next().str(), day, "EUR", 300, {{lamp, seller, "Lamp", 1, 300}});
    // The same product with its id in capitals and a new name: one all-time row all the same
    // (a statement may change a row once only).
    std::string upper = lamp;
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    st.add_sale(f.ids.next().str(), day, "EUR", 600, {{upper, seller, "Blue lamp", 2, 600}});
  });
  // orders, units and gross of the lamp in one number: 2 orders, 3 units, 900.
  CHECK(f.number("SELECT orders * 1000000 + units * 1000 + gross FROM product_sales "
                 "WHERE product_id = CAST(:v1 AS uuid) AND currency = 'EUR'",
                 {lamp}) == 2'003'900);
  CHECK(tests::count(f.sql, "SELECT count(*) FROM product_sales WHERE name = 'Blue lamp'") == 1);
  CHECK(f.number("SELECT gross FROM daily_sales WHERE day = CAST(:v1 AS date) "
                 "AND grp = 'currency' AND dim = 'EUR'",
                 {day}) == 900);
  CHECK(f.number("SELECT orders FROM daily_sales WHERE grp = 'seller' AND dim = :v1", {seller}) ==
        2);
  CHECK(f.take_dirty("top_products"));

  // A later transaction adds to the same rows.
  f.in_transaction([&](analytics::AnalyticsStore& st) {
    st.add_sale(f.ids.next().str(), day, "EUR", 300, {{lamp, seller, "", 1, 300}});
  });
  CHECK(f.number("SELECT units FROM product_sales WHERE product_id = CAST(:v1 AS uuid)", {lamp}) ==
        4);
  CHECK(tests::count(f.sql, "SELECT count(*) FROM product_sales WHERE name = 'Blue lamp'") == 1);
}

TEST_CASE("sales counted before their product's name was known take it when it comes") {
  Fixture f;
  const std::string teapot = f.ids.next().str();
  const std::string kettle = f.ids.next().str();
  const std::string seller = f.ids.next().str();
  const std::string day = "2026-12-01";
  const auto named = [&](const std::string& product, const std::string& name) {
    return tests::count(f.sql, "SELECT count(*) FROM product_sales WHERE product_id = '" + product +
                                   "' AND name = '" + name + "'") +
           tests::count(f.sql,
                        "SELECT count(*) FROM daily_sales WHERE grp = 'product' AND dim = '" +
                            product + "' AND name = '" + name + "'");
  };
  // The sale first, the product's catalog event in a later transaction.
  f.in_transaction([&](analytics::AnalyticsStore& st) {
    st.add_sale(f.ids.next().str(), day, "EUR", 300, {{teapot, seller, "", 1, 300}});
  });
  CHECK(named(teapot, "Teapot") == 0);
  CHECK(f.take_dirty("top_products"));
  f.in_transaction([&](analytics::AnalyticsStore& st) { st.product(teapot, "Teapot", seller); });
  CHECK(named(teapot, "Teapot") == 2);
  CHECK(f.take_dirty("top_products"));  // the snapshots that name it are published again
  // Both in one transaction, the sale first: its rows are written at the end, with the name.
  f.in_transaction([&](analytics::AnalyticsStore& st) {
    st.add_sale(f.ids.next().str(), day, "EUR", 300, {{kettle, seller, "", 1, 300}});
    st.product(kettle, "Kettle", seller);
  });
  CHECK(named(kettle, "Kettle") == 2);
  CHECK(f.take_dirty("top_products"));
  // A rename fills no name already there: the next sale brings it.
  f.in_transaction([&](analytics::AnalyticsStore& st) { st.product(teapot, "Tea pot", seller); });
  CHECK(named(teapot, "Teapot") == 2);
  CHECK_FALSE(f.take_dirty("top_products"));
}

TEST_CASE("refunds in parts give each seller back exactly what a whole refund would") {
  Fixture f;
  const std::string order = f.ids.next().str();
  const std::string a = f.ids.next().str();
  const std::string b = f.ids.next().str();
  const std::string day = "2026-12-02";
  f.in_transaction([&](analytics::AnalyticsStore& st) {
    st.order_status(order, "PLACED",
                    analytics::Moment{"2026-12-02T10:00:00.000Z", 1'796'205'600'000});
    CHECK(st.confirm(order, "EUR"));
    // 1 x 10.00 from seller a, 2 x 3.00 from seller b.
    st.add_sale(order, day, "EUR", 1600,
                {{f.ids.next().str(), a, "Lamp", 1, 1000}, {f.ids.next().str(), b, "Mug", 2, 600}});
  });
  // 7.00, then the rest: each refund's totals as the payment service reports them.
  for (const long long total : {700LL, 1600LL}) {
    f.in_transaction([&](analytics::AnalyticsStore& st) {
      const long long increment = st.refund_increment(order, total);
      st.add_refund(order, {day, increment, "EUR"});
    });
  }
  for (const auto& [seller, gross] : {std::pair{a, 1000LL}, std::pair{b, 600LL}}) {
    CAPTURE(seller);
    CHECK(f.number("SELECT refunded FROM daily_sales WHERE grp = 'seller' AND dim = :v1",
                   {seller}) == gross);
  }
}

TEST_CASE("refunds held until their order confirms come back in the order they were made") {
  Fixture f;
  const std::string order = f.ids.next().str();
  // Running totals, the later one kept first.
  f.in_transaction([&](analytics::AnalyticsStore& st) {
    st.keep_pending_refund(f.ids.next().str(), order, {"2026-12-03", 1600, "EUR"});
    st.keep_pending_refund(f.ids.next().str(), order, {"2026-12-02", 700, "EUR"});
  });
  f.in_transaction([&](analytics::AnalyticsStore& st) {
    const auto taken = st.take_pending_refunds(order);
    REQUIRE(taken.size() == 2);
    CHECK(taken[0].amount == 700);
    CHECK(taken[0].day == "2026-12-02");
    CHECK(taken[1].amount == 1600);
  });
}
