// bazaarctl against the real broker and the running services: dead letters redriven after a
// fix, a time window replayed, one order's timeline, and clear errors for bad input.
#include <doctest/doctest.h>
#include <soci/soci.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <fstream>
#include <iterator>
#include <sstream>

#include "events/kafka_client.hpp"
#include "system.hpp"

using namespace bazaar;
using namespace bazaar::e2e;
using namespace std::chrono_literals;

TEST_CASE("dead letters of a handler bug are grouped, and redriven once after the fix") {
  // A payment deadline far away: the saga waits for the redrive instead of giving up.
  System system({{"order", {{"BAZAAR_ORDER_PAYMENT_TIMEOUT_MS", "120000"}}}});
  Bus bus;
  Shop shop{system, bus};
  const std::string product = shop.list_product(bus.new_id(), 500, 10);
  // A bug in the order service's handling of PaymentCharged: its step log refuses the row.
  // The fix drops it; so does leaving this test however it ends, for the tests after it.
  system.db("order") << "ALTER TABLE saga_steps ADD CONSTRAINT injected_bug "
                        "CHECK (trigger <> 'bazaar.payment.PaymentCharged.v1') NOT VALID";
  struct Fix {
    soci::session& sql;
    void apply() { sql << "ALTER TABLE saga_steps DROP CONSTRAINT IF EXISTS injected_bug"; }
    ~Fix() { apply(); }
  } fix{system.db("order")};
  std::vector<std::string> orders;
  for (int i = 0; i < 3; ++i) orders.push_back(shop.place(bus.new_id(), product, 1, "tok_ok"));
  REQUIRE(tests::wait_until(60s, [&] {
    const Run list = bazaarctl({"dlq", "list", "--group", "order", "-o", "json"});
    return list.code == 0 && list.out.find(R"("count":3)") != std::string::npos;
  }));
  const Run list = bazaarctl({"dlq", "list"});
  CHECK(list.code == 0);
  CHECK(list.out.find("order  handler_error  3 dead letters (0 redriven)") != std::string::npos);
  CHECK(list.out.find("injected_bug") != std::string::npos);
  CHECK(list.out.find("Failing row") == std::string::npos);  // no row values in dead letters
  for (const auto& order : orders) CHECK(shop.status(order) == "AWAITING_PAYMENT");

  // The first order's next reply on the same partition waits behind its dead letter instead
  // of overtaking it (applied now, this decline would cancel a paid order).
  bus.send("payment.events", "bazaar.payment.PaymentDeclined.v1", orders[0],
           {{"order_id", orders[0]}, {"reason", "insufficient_funds"}});
  REQUIRE(tests::wait_until(30s, [&] {
    return bazaarctl({"dlq", "list", "--group", "order"}).out.find("parked  1 dead letters") !=
           std::string::npos;
  }));
  CHECK(shop.status(orders[0]) == "AWAITING_PAYMENT");

  const Run dry = bazaarctl({"dlq", "redrive", "order", "--reason", "handler_error", "--dry-run"});
  CHECK(dry.code == 0);
  CHECK(dry.out.find("4 dead letters of order to redrive") != std::string::npos);  // + parked
  CHECK(shop.status(orders[0]) == "AWAITING_PAYMENT");  // a dry run sends nothing

  fix.apply();
  const Run redrive = bazaarctl({"dlq", "redrive", "order", "--reason", "handler_error"});
  CHECK(redrive.code == 0);
  CHECK(redrive.out.find("4 redriven") != std::string::npos);
  for (const auto& order : orders) CHECK(shop.wait_status(order, {"CONFIRMED"}) == "CONFIRMED");

  const Run again = bazaarctl({"dlq", "redrive", "order", "--reason", "handler_error"});
  CHECK(again.code == 0);
  CHECK(again.out.find("0 dead letters of order to redrive (3 redriven before") !=
        std::string::npos);
  // Even forced, a repeat changes nothing: the inbox absorbs it.
  const Run forced = bazaarctl({"dlq", "redrive", "order", "--reason", "handler_error", "--force"});
  CHECK(forced.code == 0);
  const Run after = bazaarctl({"dlq", "list", "--group", "order"});
  CHECK(after.out.find("handler_error  3 dead letters (3 redriven)") != std::string::npos);
  CHECK(after.out.find("parked  1 dead letters (1 redriven)") != std::string::npos);
  CHECK(shop.check_invariants(orders, {product}) == 0);
  for (const auto& order : orders) CHECK(shop.money(order).first == 500);
}

TEST_CASE("replay copies exactly the records of a time window") {
  Bus bus;
  const std::string topic = tests::unique_name("ctl.replay.source");
  const std::string target = tests::unique_name("ctl.replay.target");
  tests::create_topic(topic, 3);
  tests::create_topic(target, 3);
  auto send = [&](int n) {
    for (int i = 0; i < n; ++i) {
      const std::string id = bus.new_id();
      bus.send(topic, "bazaar.order.CancelOrder.v1", id,
               {{"order_id", id}, {"actor_id", id}, {"actor_role", "admin"}});
    }
  };
  // A boundary strictly between two batches: the clock moves past it before the next one.
  auto boundary = [] {
    const auto at = std::chrono::system_clock::now();
    REQUIRE(tests::wait_until(5s, [&] { return std::chrono::system_clock::now() > at + 3ms; }));
    return events::format_rfc3339(at + 1ms);
  };
  send(4);
  const std::string since = boundary();
  send(5);
  const std::string until = boundary();
  send(3);

  const Run dry = bazaarctl({"replay", "--topic", topic, "--since", since, "--until", until, "--to",
                             target, "--dry-run"});
  CHECK(dry.code == 0);
  CHECK(dry.out.find("5 records of " + topic) != std::string::npos);
  const Run dry_json = bazaarctl({"replay", "--topic", topic, "--since", since, "--until", until,
                                  "--to", target, "--dry-run", "-o", "json"});
  CHECK(dry_json.code == 0);
  const auto planned = boost::json::parse(dry_json.stdout_text);
  CHECK(planned.at("selected") == 5);
  CHECK(planned.at("copied") == 0);
  CHECK(planned.at("dry_run") == true);
  const Run copy =
      bazaarctl({"replay", "--topic", topic, "--since", since, "--until", until, "--to", target});
  CHECK(copy.code == 0);
  CHECK(copy.out.find("5 copied") != std::string::npos);
  const auto copied = tests::read_topic(target, 5, 30s);
  CHECK(copied.size() == 5);
  for (const auto& r : copied) CHECK(r.header("bazaar_replayed_from").starts_with(topic + "/"));
}

TEST_CASE("saga show draws a timed-out order with its deadline and the late refund") {
  System system({{"order", {{"BAZAAR_ORDER_PAYMENT_TIMEOUT_MS", "2000"}}}});
  Bus bus;
  Shop shop{system, bus};
  const std::string product = shop.list_product(bus.new_id(), 700, 3);
  const std::string order = shop.place(bus.new_id(), product, 1, "tok_timeout");
  REQUIRE(shop.wait_status(order, {"CANCELLED"}) == "CANCELLED");
  bus.send(
      "payment.events", "bazaar.payment.PaymentCharged.v1", order,
      {{"order_id", order}, {"payment_id", bus.new_id()}, {"amount", 700}, {"currency", "EUR"}});
  // Two refunds: the compensation's (the charge may have happened) and the late charge's.
  auto refunds = [](const std::string& text) {
    std::size_t n = 0;
    for (auto at = text.find("PaymentRefunded"); at != std::string::npos;
         at = text.find("PaymentRefunded", at + 1)) {
      ++n;
    }
    return n;
  };
  REQUIRE(tests::wait_until(30s, [&] {
    return refunds(bazaarctl({"saga", "show", order}).out) >= 2;
  }));
  const Run shown = bazaarctl({"saga", "show", order});
  CHECK(shown.code == 0);
  CHECK(shown.out.find("AWAITING_PAYMENT -> COMPENSATING (timeout)") != std::string::npos);
  CHECK(shown.out.find("[deadline]") != std::string::npos);
  const auto cancelled = shown.out.find("-> CANCELLED");
  const auto refund = shown.out.rfind("RefundPayment");
  CHECK(cancelled != std::string::npos);
  CHECK(refund != std::string::npos);
  CHECK(refund > cancelled);  // the late charge is refunded after the order was cancelled
  const Run json = bazaarctl({"saga", "show", order, "-o", "json"});
  CHECK(json.code == 0);
  CHECK(json.out.find(R"("deadline":true)") != std::string::npos);
  // JSON Lines: one object per record of the timeline.
  std::istringstream lines(json.stdout_text);
  std::size_t objects = 0;
  for (std::string line; std::getline(lines, line);) {
    boost::system::error_code ec;
    const auto v = boost::json::parse(line, ec);
    CHECK_MESSAGE((!ec && v.is_object()), line);
    ++objects;
  }
  CHECK(objects >= 5);
}

TEST_CASE("bad input and a dead broker end bazaarctl with a message and a distinct code") {
  const Run unknown = bazaarctl({"tail", "no.such.topic", "--from-beginning"});
  CHECK(unknown.code == 2);
  CHECK(unknown.out.find("no topic no.such.topic") != std::string::npos);
  const Run bad_time = bazaarctl({"tail", "order.events", "--since", "yesterday"});
  CHECK(bad_time.code == 2);
  CHECK(bad_time.out.find("is not a time") != std::string::npos);
  const Run bad_offset = bazaarctl({"replay", "--topic", "order.events", "--from-offset",
                                    "0:999999999", "--to", "order.events", "--dry-run"});
  CHECK(bad_offset.code == 2);
  CHECK(bad_offset.out.find("is not among them") != std::string::npos);
  const Run no_group = bazaarctl({"dlq", "show", "no-such-group", "1"});
  CHECK(no_group.code == 2);
  const Run down = bazaarctl({"tail", "order.events", "--from-beginning"},
                             "127.0.0.1:" + std::to_string(tests::free_port()));
  CHECK(down.code == 3);
  CHECK(down.out.find("did not answer") != std::string::npos);
  // What the client library says goes to standard error: standard output stays parseable.
  const Run down_json = bazaarctl({"tail", "order.events", "--from-beginning", "-o", "json"},
                                  "127.0.0.1:" + std::to_string(tests::free_port()));
  CHECK(down_json.code == 3);
  CHECK(down_json.stdout_text.empty());
  // Usage errors are bad input too, and an unknown command is named.
  const Run unknown_command = bazaarctl({"frobnicate"});
  CHECK(unknown_command.code == 2);
  CHECK(unknown_command.out.find("unknown command frobnicate") != std::string::npos);
  const Run conflicting = bazaarctl({"tail", "order.events", "--from-beginning", "--since", "5m"});
  CHECK(conflicting.code == 2);
  const Run extra = bazaarctl({"lag", "surplus"});
  CHECK(extra.code == 2);
  const Run empty_order = bazaarctl({"saga", "show", ""});
  CHECK(empty_order.code == 2);
  CHECK(empty_order.out.find("is not an order id") != std::string::npos);
  CHECK(bazaarctl({"lag", "--group", ""}).code == 2);
  const Run before_1970 = bazaarctl({"tail", "order.events", "--since", "1969-12-31T23:59:59Z"});
  CHECK(before_1970.code == 2);
  CHECK(before_1970.out.find("before 1970") != std::string::npos);
  const Run help = bazaarctl({"dlq", "redrive", "--help"});
  CHECK(help.code == 0);
  CHECK(help.out.find("Examples:") != std::string::npos);
}

TEST_CASE("audit passes on real sagas and names the record of a forged charge") {
  System system({{"order", {{"BAZAAR_ORDER_PAYMENT_ATTEMPTS", "1"}}}});  // a decline ends the order
  Bus bus;
  Shop shop{system, bus};
  const std::string since = events::format_rfc3339(std::chrono::system_clock::now());
  const std::string product = shop.list_product(bus.new_id(), 400, 5);
  std::vector<std::string> orders;
  for (const char* token : {"tok_ok", "tok_decline", "tok_ok"}) {
    orders.push_back(shop.place(bus.new_id(), product, 1, token));
  }
  orders.push_back(shop.place(bus.new_id(), product, 50, "tok_ok"));  // out of stock
  for (const auto& order : orders) shop.wait_status(order, {"CONFIRMED", "REJECTED", "CANCELLED"});

  const Run clean = bazaarctl({"audit", "--since", since, "--settle", "0"});
  CHECK(clean.code == 0);
  CHECK(clean.out.find("0 violated") != std::string::npos);
  CHECK(clean.out.find("VIOLATION") == std::string::npos);

  // This build's saga over the recorded history decides as the running one did.
  const Run whatif = bazaarctl({"saga", "whatif", "--since", since});
  CHECK(whatif.code == 0);
  CHECK(whatif.out.find("identical") != std::string::npos);
  CHECK(whatif.out.find("4 orders") != std::string::npos);

  // A charge no order asked for: the confirmed order's money no longer balances.
  const auto forged = bus.send("payment.events", "bazaar.payment.PaymentCharged.v1", orders[0],
                               {{"order_id", orders[0]},
                                {"payment_id", bus.new_id()},
                                {"amount", 400},
                                {"currency", "EUR"}});
  // Every record of the topic (fewer than asked for: the read ends after its timeout).
  const auto where = tests::read_topic("payment.events", 1'000'000, 5s);
  const Run dirty = bazaarctl({"audit", "--since", since, "--settle", "0", "-o", "json"});
  CHECK(dirty.code == 1);
  CHECK(dirty.out.find(R"("invariant":"money_balances")") != std::string::npos);
  CHECK(dirty.out.find(orders[0]) != std::string::npos);
  // The forged record is named by its place on the topic.
  const auto found = std::find_if(where.begin(), where.end(), [&](const tests::ConsumedRecord& r) {
    return r.header("ce_id") == forged.id;
  });
  REQUIRE(found != where.end());
  CHECK(dirty.out.find("payment.events/" + std::to_string(found->partition) + "@" +
                       std::to_string(found->offset)) != std::string::npos);
}

TEST_CASE("projection rebuild refuses a live group and restores a truncated read model") {
  auto services = kServices;
  services.push_back("edge");
  System system({{"edge",
                  {{"BAZAAR_EDGE_PORT", std::to_string(tests::free_port())},
                   {"BAZAAR_JWT_SECRET", "e2e-only-secret-of-more-than-32-bytes-0123456789"},
                   {"BAZAAR_ADMIN_EMAIL", "root@bazaar.test"},
                   {"BAZAAR_ADMIN_PASSWORD", "root-password-123"},
                   {"BAZAAR_EDGE_ARGON2_MEMORY_KIB", "1024"},
                   {"BAZAAR_EDGE_ARGON2_PASSES", "1"}}}},
                services);
  Bus bus;
  Shop shop{system, bus};
  const std::string product = shop.list_product(bus.new_id(), 900, 4);
  auto listed = [&] {
    long long n = 0;
    system.db("edge") << "SELECT count(*) FROM products_view WHERE product_id = CAST(:p AS uuid)",
        soci::use(product, "p"), soci::into(n);
    return n == 1;
  };
  REQUIRE(tests::wait_until(30s, listed));

  // Offsets are committed every commit interval, after the projection applied the record.
  Run lagged;
  CHECK(tests::wait_until(10s, [&] {
    lagged = bazaarctl({"lag", "--group", "edge-catalog"});
    return lagged.out.find("catalog.events  lag 0") != std::string::npos;
  }));
  CHECK(lagged.code == 0);
  CHECK(lagged.out.find("edge-catalog  Stable  1 members") != std::string::npos);
  const Run live = bazaarctl({"projection", "rebuild", "edge-catalog"});
  CHECK(live.code == 4);
  CHECK(live.out.find("stop the service") != std::string::npos);

  system.stop("edge");
  system.db("edge") << "TRUNCATE products_view, product_stock_view";
  system.db("edge") << "DELETE FROM inbox WHERE consumer = 'edge-catalog'";
  REQUIRE_FALSE(listed());
  // A topic the group never read is not started on.
  const Run other_topic =
      bazaarctl({"projection", "rebuild", "edge-catalog", "--topic", "payment.events"});
  CHECK(other_topic.code == 2);
  CHECK(other_topic.out.find("has not read payment.events") != std::string::npos);
  const Run rebuilt = bazaarctl({"projection", "rebuild", "edge-catalog"});
  CHECK(rebuilt.code == 0);
  CHECK(rebuilt.out.find("edge-catalog reset to the beginning") != std::string::npos);
  system.start("edge");
  CHECK(tests::wait_until(60s, listed));
  const Run unknown = bazaarctl({"projection", "rebuild", "no-such-group"});
  CHECK(unknown.code == 2);
}

TEST_CASE("tail prints a topic's events, filtered, as text or JSON lines") {
  Bus bus;
  const std::string topic = tests::unique_name("ctl.tail");
  tests::create_topic(topic, 2);
  const std::string wanted = bus.new_id();
  for (int i = 0; i < 3; ++i) {
    const std::string other = bus.new_id();
    bus.send(topic, "bazaar.order.CancelOrder.v1", other,
             {{"order_id", other}, {"actor_id", other}, {"actor_role", "admin"}});
  }
  bus.send(topic, "bazaar.order.CancelOrder.v1", wanted,
           {{"order_id", wanted}, {"actor_id", wanted}, {"actor_role", "buyer"}});

  const Run all = bazaarctl({"tail", topic, "--from-beginning"});
  CHECK(all.code == 0);
  std::size_t lines = 0;
  for (auto at = all.out.find("CancelOrder"); at != std::string::npos;
       at = all.out.find("CancelOrder", at + 1)) {
    ++lines;
  }
  CHECK(lines == 4);
  const Run one =
      bazaarctl({"tail", topic, "--from-beginning", "--correlation", wanted, "-o", "json"});
  CHECK(one.code == 0);
  CHECK(one.out.find(R"("type":"bazaar.order.CancelOrder.v1")") != std::string::npos);
  CHECK(one.out.find(R"("actor_role":"buyer")") != std::string::npos);
  CHECK(one.out.find(R"("actor_role":"admin")") == std::string::npos);
  CHECK(std::count(one.out.begin(), one.out.end(), '\n') == 1);
  const Run none = bazaarctl({"tail", topic, "--since", "1s", "--type", "OrderPlaced"});
  CHECK(none.code == 0);
  CHECK(none.out.empty());

  // `all` leaves out identity.otp, whose records hold one-time codes: it is read only by name.
  const std::string user = bus.new_id();
  const auto code = bus.send("identity.otp", "bazaar.identity.OtpRequested.v1", user,
                             {{"user_id", user},
                              {"code", "731946"},
                              {"expires_at", "2099-01-01T00:00:00Z"},
                              {"purpose", "sign_in"}});
  const std::vector<std::string> mine{"--from-beginning", "--correlation", code.correlation_id,
                                      "-o", "json"};
  std::vector<std::string> every{"tail", "all"}, named{"tail", "identity.otp"};
  every.insert(every.end(), mine.begin(), mine.end());
  named.insert(named.end(), mine.begin(), mine.end());
  const Run by_name = bazaarctl(named);
  CHECK(by_name.code == 0);
  CHECK(by_name.out.find("731946") != std::string::npos);
  const Run in_all = bazaarctl(every);
  CHECK(in_all.code == 0);
  CHECK(in_all.out.find("731946") == std::string::npos);
}

TEST_CASE("export writes a slice as CSV or JSON Lines") {
  Bus bus;
  const std::string topic = tests::unique_name("ctl.export");
  tests::create_topic(topic, 2);
  for (int i = 0; i < 3; ++i) {
    const std::string id = bus.new_id();
    bus.send(topic, "bazaar.order.CancelOrder.v1", id,
             {{"order_id", id}, {"actor_id", id}, {"actor_role", "admin"}});
  }
  const std::string file =
      tests::required_env("BAZAAR_RUN_DIR") + "/" + tests::unique_name("export") + ".csv";
  const Run csv = bazaarctl({"export", topic, "--format", "csv", "--out", file});
  CHECK(csv.code == 0);
  CHECK(csv.out.find("3 records written to " + file) != std::string::npos);
  std::ifstream in(file);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  REQUIRE(lines.size() == 4);
  CHECK(lines[0].starts_with("topic,partition,offset,timestamp,key,id,type"));
  for (std::size_t i = 1; i < lines.size(); ++i) {
    CHECK(lines[i].starts_with(topic + ","));
    CHECK(lines[i].find(",bazaar.order.CancelOrder.v1,") != std::string::npos);
  }
  const Run jsonl = bazaarctl({"export", topic});
  CHECK(jsonl.code == 0);
  CHECK(std::count(jsonl.out.begin(), jsonl.out.end(), '\n') == 3);
  CHECK(bazaarctl({"export", topic, "--format", "xml"}).code != 0);
}
