// Orders end to end: every service a real process, commands produced to the topics, and
// each scenario ends by checking DESIGN.md's four invariants against the databases.
#include <doctest/doctest.h>
#include <soci/soci.h>

#include <boost/json/parse.hpp>

#include "system.hpp"

using namespace bazaar;
using namespace bazaar::e2e;
using namespace std::chrono_literals;

namespace {

const std::set<std::string> kSettled{"CONFIRMED", "REJECTED", "CANCELLED"};

// An admin known to the notification service, so admin notifications have a recipient. It
// reads identity.events beside order.events: the order comes once the admin is known.
std::string register_admin(System& system, Bus& bus) {
  const std::string admin = bus.new_id();
  bus.send(
      "identity.events", "bazaar.identity.UserRegistered.v1", admin,
      {{"user_id", admin}, {"email", "admin@bazaar.test"}, {"name", "Admin"}, {"role", "admin"}});
  REQUIRE(tests::wait_until(30s, [&] {
    long long known = 0;
    system.db("notification") << "SELECT count(*) FROM users WHERE user_id = CAST(:id AS uuid) "
                                 "AND role = 'admin'",
        soci::use(admin), soci::into(known);
    return known == 1;
  }));
  return admin;
}

long long steps(System& system, const std::string& order, const std::string& trigger,
                const std::string& commands) {
  long long n = 0;
  std::string id = order, t = trigger, c = commands;
  system.db("order") << "SELECT count(*) FROM saga_steps WHERE order_id = CAST(:id AS uuid) "
                        "AND trigger = :t AND commands = :c",
      soci::use(id), soci::use(t), soci::use(c), soci::into(n);
  return n;
}

}  // namespace

TEST_CASE("a paid order is confirmed and moves stock from available to sold") {
  MESSAGE("broker: Apache Kafka " << tests::required_env("BAZAAR_KAFKA_VERSION"));
  WebhookReceiver webhook(1);  // the first delivery fails: the sink must retry
  System system({{"notification", {{"BAZAAR_NOTIFICATION_WEBHOOK_URL", webhook.url()}}}});
  Bus bus;
  Shop shop{system, bus};
  const std::string admin = register_admin(system, bus);
  const std::string seller = bus.new_id();
  const std::string buyer = bus.new_id();
  const std::string product = shop.list_product(seller, 1250, 5);

  const std::string order = shop.place(buyer, product, 2, "tok_ok");
  REQUIRE(shop.wait_status(order, kSettled) == "CONFIRMED");
  CHECK(shop.total(order) == 2500);
  CHECK(shop.stock(product) == std::array<long long, 4>{3, 0, 2, 5});
  CHECK(shop.money(order) == std::pair<long long, long long>{2500, 0});

  // Shipping and delivery follow confirmation; each step tells the buyer.
  bus.send("order.commands", "bazaar.order.AdvanceOrderStatus.v1", order,
           {{"order_id", order}, {"status", "SHIPPED"}});
  REQUIRE(shop.wait_status(order, {"SHIPPED"}) == "SHIPPED");
  bus.send("order.commands", "bazaar.order.AdvanceOrderStatus.v1", order,
           {{"order_id", order}, {"status", "DELIVERED"}});
  REQUIRE(shop.wait_status(order, {"DELIVERED"}) == "DELIVERED");

  CHECK(tests::wait_until(30s, [&] {
    return shop.notifications(order, "order_confirmed", buyer) == 1 &&
           shop.notifications(order, "item_sold", seller) == 1 &&
           shop.notifications(order, "new_order", admin) == 1 &&
           shop.notifications(order, "order_shipped", buyer) == 1 &&
           shop.notifications(order, "order_delivered", buyer) == 1;
  }));
  // The webhook got every one of them, after retrying the delivery it refused.
  CHECK(tests::wait_until(30s, [&] {
    int about_order = 0;
    for (const auto& body : webhook.bodies()) {
      if (body.find(order) != std::string::npos) ++about_order;
    }
    return about_order >= 5;  // new_order, order_confirmed, item_sold, shipped, delivered
  }));
  CHECK(webhook.requests() > static_cast<int>(webhook.bodies().size()));
  shop.check_invariants({order}, {product});
}

TEST_CASE("an order for more than the stock is rejected and nothing is charged") {
  System system;
  Bus bus;
  Shop shop{system, bus};
  const std::string product = shop.list_product(bus.new_id(), 999, 1);
  const std::string order = shop.place(bus.new_id(), product, 2, "tok_ok");
  REQUIRE(shop.wait_status(order, kSettled) == "REJECTED");
  CHECK(shop.reason(order) == "out_of_stock");
  CHECK(shop.stock(product) == std::array<long long, 4>{1, 0, 0, 1});
  CHECK(shop.money(order) == std::pair<long long, long long>{0, 0});
  shop.check_invariants({order}, {product});
}

TEST_CASE("with one payment attempt, a declined payment cancels the order and restores the stock") {
  System system({{"order", {{"BAZAAR_ORDER_PAYMENT_ATTEMPTS", "1"}}}});
  Bus bus;
  Shop shop{system, bus};
  const std::string product = shop.list_product(bus.new_id(), 500, 4);
  const std::string order = shop.place(bus.new_id(), product, 3, "tok_decline");
  REQUIRE(shop.wait_status(order, kSettled) == "CANCELLED");
  CHECK(shop.reason(order) == "payment_declined");
  CHECK(tests::wait_until(10s, [&] {
    return shop.stock(product) == std::array<long long, 4>{4, 0, 0, 4};
  }));
  shop.check_invariants({order}, {product});
}

TEST_CASE(
    "a payment that never answers is cancelled by the deadline and a late charge is refunded") {
  System system({{"order", {{"BAZAAR_ORDER_PAYMENT_TIMEOUT_MS", "2000"}}}});
  Bus bus;
  Shop shop{system, bus};
  const std::string product = shop.list_product(bus.new_id(), 700, 3);
  const std::string order = shop.place(bus.new_id(), product, 1, "tok_timeout");
  REQUIRE(shop.wait_status(order, kSettled) == "CANCELLED");
  CHECK(shop.reason(order) == "timeout");
  CHECK(tests::wait_until(10s, [&] {
    return shop.stock(product) == std::array<long long, 4>{3, 0, 0, 3};
  }));

  // The provider answers after all: the saga refunds the late charge.
  bus.send(
      "payment.events", "bazaar.payment.PaymentCharged.v1", order,
      {{"order_id", order}, {"payment_id", bus.new_id()}, {"amount", 700}, {"currency", "EUR"}});
  CHECK(tests::wait_until(30s, [&] {
    return steps(system, order, "bazaar.payment.PaymentCharged.v1", "RefundPayment") == 1;
  }));
  CHECK(shop.status(order) == "CANCELLED");
  shop.check_invariants({order}, {product});
}

TEST_CASE("a flaky payment provider still confirms the order") {
  System system;
  Bus bus;
  Shop shop{system, bus};
  const std::string product = shop.list_product(bus.new_id(), 1999, 2);
  const std::string order = shop.place(bus.new_id(), product, 1, "tok_flaky");
  REQUIRE(shop.wait_status(order, kSettled) == "CONFIRMED");
  CHECK(shop.money(order) == std::pair<long long, long long>{1999, 0});
  shop.check_invariants({order}, {product});
}

TEST_CASE("cancelling a confirmed order refunds it and restocks") {
  System system;
  Bus bus;
  Shop shop{system, bus};
  const std::string buyer = bus.new_id();
  const std::string product = shop.list_product(bus.new_id(), 300, 6);
  const std::string order = shop.place(buyer, product, 4, "tok_ok");
  REQUIRE(shop.wait_status(order, kSettled) == "CONFIRMED");
  // Another buyer may not cancel it: refused, and nothing moves.
  bus.send("order.commands", "bazaar.order.CancelOrder.v1", order,
           {{"order_id", order}, {"actor_id", bus.new_id()}, {"actor_role", "buyer"}});
  CHECK(tests::wait_until(30s, [&] {
    long long refused = 0;
    std::string id = order;
    system.db("order") << "SELECT count(*) FROM saga_steps WHERE order_id = CAST(:id AS uuid) "
                          "AND note LIKE 'forbidden%'",
        soci::use(id), soci::into(refused);
    return refused == 1;
  }));
  CHECK(shop.status(order) == "CONFIRMED");
  bus.send("order.commands", "bazaar.order.CancelOrder.v1", order,
           {{"order_id", order}, {"actor_id", buyer}, {"actor_role", "buyer"}});
  REQUIRE(shop.wait_status(order, {"CANCELLED"}) == "CANCELLED");
  CHECK(shop.reason(order) == "refunded");
  CHECK(tests::wait_until(10s, [&] {
    return shop.stock(product) == std::array<long long, 4>{6, 0, 0, 6};
  }));
  CHECK(shop.money(order) == std::pair<long long, long long>{1200, 1200});
  shop.check_invariants({order}, {product});
}

namespace {

// How many of `orders` were confirmed and how many rejected, once each settled.
std::pair<int, int> outcomes(Shop& shop, const std::vector<std::string>& orders) {
  int confirmed = 0;
  int rejected = 0;
  for (const auto& o : orders) {
    const std::string s = shop.wait_status(o, kSettled);
    confirmed += s == "CONFIRMED";
    rejected += s == "REJECTED";
  }
  return {confirmed, rejected};
}

}  // namespace

TEST_CASE("forty concurrent orders for the last ten units confirm exactly ten") {
  System system;
  Bus bus;
  Shop shop{system, bus};
  const std::string product = shop.list_product(bus.new_id(), 100, 10);
  std::vector<std::string> orders;
  for (int i = 0; i < 40; ++i) orders.push_back(shop.place(bus.new_id(), product, 1, "tok_ok"));
  const auto [confirmed, rejected] = outcomes(shop, orders);
  CHECK(confirmed == 10);
  CHECK(rejected == 30);
  CHECK(shop.stock(product) == std::array<long long, 4>{0, 0, 10, 10});
  shop.check_invariants(orders, {product});
}

TEST_CASE("two inventory instances applying batches share three products without overselling") {
  System system;
  system.start_instance("inventory-2", "inventory", {});
  Bus bus;
  Shop shop{system, bus};
  std::vector<std::string> products;
  for (int i = 0; i < 3; ++i) products.push_back(shop.list_product(bus.new_id(), 100, 10));
  // Both members hold partitions once the group reports two of them.
  REQUIRE(tests::wait_until(60s, [&] {
    return bazaarctl({"lag", "--group", "inventory"}).out.find("2 members") != std::string::npos;
  }));
  std::vector<std::string> orders;
  for (int i = 0; i < 45; ++i) {
    orders.push_back(
        shop.place(bus.new_id(), products[static_cast<std::size_t>(i % 3)], 1, "tok_ok"));
  }
  const auto [confirmed, rejected] = outcomes(shop, orders);
  CHECK(confirmed == 30);
  CHECK(rejected == 15);
  for (const auto& p : products) CHECK(shop.stock(p) == std::array<long long, 4>{0, 0, 10, 10});
  shop.check_invariants(orders, products);
}

TEST_CASE("every command delivered twice has no double effect") {
  System system;
  Bus bus;
  Shop shop{system, bus};
  const std::string buyer = bus.new_id();
  const std::string seller = bus.new_id();
  const std::string product = shop.list_product(seller, 400, 5, true);
  bus.send("inventory.commands", "bazaar.inventory.AdjustStock.v1", product,
           {{"product_id", product}, {"delta", 5}, {"actor_id", seller}, {"actor_role", "seller"}},
           true);
  REQUIRE(tests::wait_until(30s, [&] { return shop.stock(product)[3] == 10; }));
  const std::string order = shop.place(buyer, product, 2, "tok_ok", true);
  REQUIRE(shop.wait_status(order, kSettled) == "CONFIRMED");
  bus.send("order.commands", "bazaar.order.CancelOrder.v1", order,
           {{"order_id", order}, {"actor_id", buyer}, {"actor_role", "buyer"}}, true);
  REQUIRE(shop.wait_status(order, {"CANCELLED"}) == "CANCELLED");
  shop.check_invariants({order}, {product});
  CHECK(shop.stock(product) == std::array<long long, 4>{10, 0, 0, 10});
  CHECK(shop.money(order) == std::pair<long long, long long>{800, 800});
  // One notification each, although every command came twice.
  CHECK(tests::wait_until(
      30s, [&] { return shop.notifications(order, "order_cancelled", buyer) == 1; }));
  CHECK(shop.notifications(order, "order_confirmed", buyer) == 1);
  CHECK(shop.notifications(order, "item_sold", seller) == 1);
  long long orders_rows = 0;
  std::string id = order;
  system.db("order") << "SELECT count(*) FROM order_lines WHERE order_id = CAST(:id AS uuid)",
      soci::use(id), soci::into(orders_rows);
  CHECK(orders_rows == 1);
}

TEST_CASE("services killed with SIGKILL mid-saga and restarted still complete every saga") {
  System system({{"order",
                  {{"BAZAAR_ORDER_PAYMENT_TIMEOUT_MS", "120000"},
                   {"BAZAAR_ORDER_STOCK_TIMEOUT_MS", "120000"}}}});
  Bus bus;
  Shop shop{system, bus};
  const std::string product = shop.list_product(bus.new_id(), 250, 100);
  std::vector<std::string> orders;
  for (int i = 0; i < 10; ++i) orders.push_back(shop.place(bus.new_id(), product, 1, "tok_ok"));
  REQUIRE(shop.wait_status(orders.front(), kSettled) == "CONFIRMED");

  system.kill("payment");
  for (int i = 0; i < 10; ++i) orders.push_back(shop.place(bus.new_id(), product, 1, "tok_ok"));
  system.kill("order");
  for (int i = 0; i < 10; ++i) orders.push_back(shop.place(bus.new_id(), product, 1, "tok_ok"));
  system.start("order");
  system.start("payment");
  system.kill("inventory");
  system.start("inventory");

  for (const auto& o : orders) {
    CAPTURE(o);
    CHECK(shop.wait_status(o, kSettled, 120s) == "CONFIRMED");
  }
  CHECK(shop.stock(product) == std::array<long long, 4>{70, 0, 30, 100});
  shop.check_invariants(orders, {product});
}

TEST_CASE("an order that overtakes the listing of its product still confirms") {
  System system;
  Bus bus;
  Shop shop{system, bus};
  const std::string seller = bus.new_id();
  const std::string product = bus.new_id();
  // The order is on order.commands before the product reaches catalog.events.
  const std::string order = shop.place(bus.new_id(), product, 1, "tok_ok");
  bus.send("catalog.commands", "bazaar.catalog.CreateProduct.v1", product,
           {{"product_id", product},
            {"seller_id", seller},
            {"name", "Kettle"},
            {"description", "Boils water"},
            {"price", 2500},
            {"currency", "EUR"},
            {"category", "kitchen"},
            {"initial_stock", 3},
            {"actor_id", seller},
            {"actor_role", "seller"}});
  CHECK(shop.wait_status(order, kSettled) == "CONFIRMED");
  shop.check_invariants({order}, {product});
}

TEST_CASE("an expired reservation gives its stock back before the saga gives up") {
  System system({{"inventory", {{"BAZAAR_INVENTORY_RESERVATION_TTL_SECONDS", "1"}}},
                 {"order", {{"BAZAAR_ORDER_PAYMENT_TIMEOUT_MS", "6000"}}}});
  Bus bus;
  Shop shop{system, bus};
  const std::string product = shop.list_product(bus.new_id(), 900, 2);
  const std::string order = shop.place(bus.new_id(), product, 2, "tok_timeout");
  REQUIRE(shop.wait_status(order, {"AWAITING_PAYMENT"}) == "AWAITING_PAYMENT");
  // The reservation expires while the payment never answers: the stock comes back first.
  CHECK(tests::wait_until(20s, [&] {
    return shop.stock(product) == std::array<long long, 4>{2, 0, 0, 2};
  }));
  CHECK(shop.wait_status(order, kSettled) == "CANCELLED");
  CHECK(shop.reason(order) == "timeout");
  shop.check_invariants({order}, {product});
}
