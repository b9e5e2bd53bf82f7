// The analysts' example (examples/analyst/daily_sales.py) run as an analyst runs it, against the
// real broker after real sagas: its daily sales per currency agree with GET /admin/stats/sales
// and with what the order and payment databases hold.
#include <doctest/doctest.h>
#include <soci/soci.h>

#include <algorithm>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <cmath>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>

#include "shop_api.hpp"
#include "system.hpp"

using namespace bazaar;
using namespace bazaar::e2e;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

// The day of a confirmation is the saga step that confirmed the order: it commits with the
// OrderConfirmed event and carries the same clock reading as its ce_time.
constexpr const char* kConfirmedSale = R"sql(
SELECT to_char(min(s.at) AT TIME ZONE 'UTC', 'YYYY-MM-DD'), o.currency, o.total,
       (SELECT CAST(sum(l.quantity) AS bigint) FROM order_lines l WHERE l.order_id = o.order_id)
FROM orders o JOIN saga_steps s ON s.order_id = o.order_id
WHERE o.order_id = CAST(:id AS uuid) AND s.to_status = 'CONFIRMED' AND s.from_status <> 'CONFIRMED'
GROUP BY o.order_id, o.currency, o.total)sql";

constexpr const char* kRefund = R"sql(
SELECT to_char(r.refunded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), p.currency, r.amount
FROM refunds r JOIN payments p ON p.order_id = r.order_id
WHERE r.order_id = CAST(:id AS uuid))sql";

/// One day's sales in one currency, amounts in minor units.
struct Figures {
  long long orders = 0;
  long long units = 0;
  long long gross = 0;
  long long refunded = 0;
  long long net = 0;
  bool operator==(const Figures&) const = default;
};

/// (day, currency) -> figures. A row of zeros says nothing, so it is never kept.
using Sales = std::map<std::pair<std::string, std::string>, Figures>;

void put(Sales& sales, const std::string& day, const std::string& currency, const Figures& f) {
  if (f == Figures{}) return;
  sales[{day, currency}] = f;
}

std::string describe(const Sales& sales) {
  std::ostringstream out;
  for (const auto& [key, f] : sales) {
    out << "  " << key.first << ' ' << key.second << ": orders " << f.orders << ", units "
        << f.units << ", gross " << f.gross << ", refunded " << f.refunded << ", net " << f.net
        << '\n';
  }
  return sales.empty() ? "  (no rows)\n" : out.str();
}

/// What `after` holds beyond `before`, row by row.
Sales added(const Sales& after, const Sales& before) {
  Sales out;
  for (const auto& [key, a] : after) {
    const auto b = before.contains(key) ? before.at(key) : Figures{};
    put(out, key.first, key.second,
        {a.orders - b.orders, a.units - b.units, a.gross - b.gross, a.refunded - b.refunded,
         a.net - b.net});
  }
  for (const auto& [key, b] : before) {
    if (!after.contains(key))
      put(out, key.first, key.second, {-b.orders, -b.units, -b.gross, -b.refunded, -b.net});
  }
  return out;
}

std::string utc_day(std::time_t t) {
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[16];
  std::strftime(text, sizeof text, "%Y-%m-%d", &tm);
  return text;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The virtual environment scripts/setup makes for the example.
std::string analyst_python() {
  const char* deps = std::getenv("BAZAAR_DEPS");
  const std::string python =
      (deps != nullptr && *deps != '\0' ? std::string(deps)
                                        : std::string(BAZAAR_SOURCE_ROOT) + "/.deps") +
      "/analyst-venv/bin/python";
  REQUIRE_MESSAGE(std::filesystem::exists(python),
                  python << " is missing: scripts/setup creates it");
  return python;
}

struct ScriptRun {
  int code = -1;
  std::string out;
  std::string err;
};

// Runs daily_sales.py with `args` until it exits; its standard output and error are kept apart.
ScriptRun run_daily_sales(const std::vector<std::string>& args) {
  const std::string base =
      tests::required_env("BAZAAR_RUN_DIR") + "/" + tests::unique_name("daily-sales");
  // sh sends the script's standard output to a file of its own ($0) and lets its standard
  // error go to the child's log.
  std::vector<std::string> argv{
      "-c", R"(exec "$@" >"$0")", base + ".out", analyst_python(),
      std::string(BAZAAR_SOURCE_ROOT) + "/examples/analyst/daily_sales.py"};
  argv.insert(argv.end(), args.begin(), args.end());
  tests::ChildProcess child("/bin/sh", argv, {}, base + ".log");
  ScriptRun r;
  r.code = child.wait(120s);
  r.out = slurp(base + ".out");
  r.err = slurp(base + ".log");
  return r;
}

// The script's --json rows against the test broker (amounts in minor units).
Sales script_sales(std::vector<std::string> args) {
  args.insert(args.begin(), {"--json", "--brokers", tests::required_env("BAZAAR_KAFKA_BROKERS")});
  const ScriptRun run = run_daily_sales(args);
  REQUIRE_MESSAGE(run.code == 0, "daily_sales.py exited " << run.code << ":\n" << run.err);
  const json::value rows = json::parse(run.out);
  Sales sales;
  for (const auto& row : rows.as_array()) {
    const auto& o = row.as_object();
    put(sales, std::string(o.at("day").as_string()), std::string(o.at("currency").as_string()),
        {o.at("orders").to_number<long long>(), o.at("units").to_number<long long>(),
         o.at("gross").to_number<long long>(), o.at("refunded").to_number<long long>(),
         o.at("net").to_number<long long>()});
  }
  return sales;
}

// GET /admin/stats/sales by day (amounts in major units, turned into minor units), or nothing
// while it does not answer 200; `body` keeps the last answer.
std::optional<Sales> api_sales(Api& api, const std::string& admin, const std::string& from,
                               const std::string& to, std::string& body) {
  const auto r = api.http.get("/admin/stats/sales?group_by=day&from=" + from + "&to=" + to, admin);
  body = std::to_string(r.status) + " " + r.body;
  if (r.status != 200) return std::nullopt;
  const auto minor = [](const json::value& v) { return std::llround(v.to_number<double>() * 100); };
  const json::value answer = r.json();
  Sales sales;
  for (const auto& row : answer.at("rows").as_array()) {
    const auto& o = row.as_object();
    put(sales, std::string(o.at("day").as_string()), std::string(o.at("currency").as_string()),
        {o.at("orders").to_number<long long>(), o.at("units").to_number<long long>(),
         minor(o.at("gross")), minor(o.at("refunded")), minor(o.at("net"))});
  }
  return sales;
}

// The sales of `orders` as the order and payment databases record them.
Sales database_sales(System& system, const std::vector<std::string>& orders) {
  Sales sales;
  const auto add = [&](const std::string& day, const std::string& currency, const Figures& f) {
    Figures& row = sales[{day, currency}];
    row.orders += f.orders;
    row.units += f.units;
    row.gross += f.gross;
    row.refunded += f.refunded;
    row.net += f.net;
  };
  for (const auto& id : orders) {
    std::string order = id;
    std::string day;
    std::string currency;
    long long total = 0;
    long long units = 0;
    soci::session& sql = system.db("order");
    sql << kConfirmedSale, soci::use(order), soci::into(day), soci::into(currency),
        soci::into(total), soci::into(units);
    // Refunds of an order that never confirmed are not sales refunds.
    if (!sql.got_data()) continue;
    add(day, currency, {1, units, total, 0, total});

    long long amount = 0;
    soci::session& payments = system.db("payment");
    payments << kRefund, soci::use(order), soci::into(day), soci::into(currency),
        soci::into(amount);
    if (payments.got_data()) add(day, currency, {0, 0, 0, amount, -amount});
  }
  return sales;
}

}  // namespace

TEST_CASE("the analysts daily sales script agrees with the sales API and the databases") {
  // One payment attempt: a declined card cancels the order at once.
  Api api(true, {{"BAZAAR_ANALYTICS_SNAPSHOT_INTERVAL_MS", "300"}},
          {{"order", {{"BAZAAR_ORDER_PAYMENT_ATTEMPTS", "1"}}}});
  Shop shop{api.system, api.bus};
  // Earlier scenarios left their sales on the topics: this one's are what it adds to them.
  const Sales before = script_sales({});

  const auto [seller_id, seller] = api.user("seller");
  const auto [ann_id, ann] = api.user("buyer");
  const auto [bob_id, bob] = api.user("buyer");
  const std::string teapot = api.product(seller, 12.5, 50);  // EUR
  const std::string kettle = api.product(seller, 30.25, 50, "Kettle", "USD");

  std::vector<std::string> orders;
  const auto place = [&](const std::string& buyer, const std::string& product, int quantity,
                         const std::string& payment, const std::string& outcome) {
    std::string id(api.order(buyer, product, quantity, payment).at("id").as_string());
    orders.push_back(id);
    REQUIRE(api.wait_order_status(buyer, id) == outcome);
    return id;
  };
  place(ann, teapot, 2, "tok_ok", "CONFIRMED");
  place(bob, teapot, 1, "tok_ok", "CONFIRMED");
  place(ann, kettle, 3, "tok_ok", "CONFIRMED");
  place(bob, teapot, 4, "tok_decline", "CANCELLED");
  const std::string returned_teapot = place(ann, teapot, 1, "tok_ok", "CONFIRMED");
  const std::string returned_kettle = place(bob, kettle, 2, "tok_ok", "CONFIRMED");
  for (const auto& [buyer, id] :
       {std::pair{ann, returned_teapot}, std::pair{bob, returned_kettle}}) {
    const auto r = api.http.post("/orders/" + id + "/cancel", json::object{}, buyer);
    REQUIRE_MESSAGE(r.status == 202, r.body);
    REQUIRE(shop.wait_status(id, {"CANCELLED"}) == "CANCELLED");
  }
  // Every saga settled, its refund recorded and every event published: the topics are final.
  REQUIRE(shop.check_invariants(orders, {teapot, kettle}) == 0);

  // What the databases say these orders sold, per currency whatever the day: the scenario's
  // own arithmetic.
  const Sales recorded = database_sales(api.system, orders);
  std::map<std::string, Figures> per_currency;
  for (const auto& [key, f] : recorded) {
    Figures& c = per_currency[key.second];
    c = {c.orders + f.orders, c.units + f.units, c.gross + f.gross, c.refunded + f.refunded,
         c.net + f.net};
  }
  CHECK(per_currency.size() == 2);
  CHECK(per_currency["EUR"] == Figures{3, 4, 5000, 1250, 3750});
  CHECK(per_currency["USD"] == Figures{2, 5, 15125, 6050, 9075});

  const Sales after = script_sales({});
  const Sales seen = added(after, before);
  CHECK_MESSAGE(seen == recorded, "daily_sales.py counted for this scenario:\n"
                                      << describe(seen) << "the databases record:\n"
                                      << describe(recorded));

  // The API over every day with sales, today included.
  std::string from = utc_day(std::time(nullptr));
  std::string to = from;
  for (const auto& [key, f] : after) {
    from = std::min(from, key.first);
    to = std::max(to, key.first);
  }
  const Sales window = script_sales({"--from", from, "--to", to});
  CHECK_MESSAGE(window == after, "--from " << from << " --to " << to << " dropped rows:\n"
                                           << describe(window));
  const std::string admin = api.admin_token();
  std::optional<Sales> served;
  std::string answer;
  const bool agreed = tests::wait_until(60s, [&] {
    served = api_sales(api, admin, from, to, answer);
    return served && *served == window;
  });
  CHECK_MESSAGE(agreed, "GET /admin/stats/sales never matched daily_sales.py.\nThe script:\n"
                            << describe(window) << "the API (last answer " << answer << "):\n"
                            << (served ? describe(*served) : std::string("  (no rows)\n")));
}

TEST_CASE("the analysts daily sales script names an unreachable broker and exits 1") {
  const std::string brokers = "127.0.0.1:" + std::to_string(tests::free_port());
  const ScriptRun run = run_daily_sales({"--json", "--brokers", brokers, "--timeout", "2"});
  CHECK(run.code == 1);
  CHECK_MESSAGE(run.err.find("cannot read order.events and payment.events from " + brokers) !=
                    std::string::npos,
                run.err);
  CHECK_MESSAGE(run.err.find("Traceback") == std::string::npos, run.err);
  CHECK(run.out.empty());
}
