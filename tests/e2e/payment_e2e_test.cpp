// Paying after placing over HTTP: an order placed without a token, a declined card followed by
// another one, the last attempt declined, and a payment window that closes.
#include <doctest/doctest.h>

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <cctype>
#include <fstream>
#include <iterator>

#include "shop_api.hpp"
#include "system.hpp"

using namespace bazaar;
using namespace bazaar::e2e;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

json::object line(const std::string& product, int quantity) {
  return json::object{{"product_id", product}, {"quantity", quantity}};
}

// POST /orders without waiting for the outcome; no token when `token` is empty.
std::string place(Api& api, const std::string& buyer, const std::string& product, int quantity,
                  const std::string& token) {
  json::object body{{"lines", json::array{line(product, quantity)}}};
  if (!token.empty()) body["payment_token"] = token;
  const auto r = api.http.post("/orders", body, buyer);
  REQUIRE_MESSAGE(r.status == 202, r.body);
  const json::value answer = r.json();
  return std::string(answer.at("id").as_string());
}

json::object payment(Api& api, const std::string& buyer, const std::string& id) {
  const auto r = api.http.get("/orders/" + id + "/payment", buyer);
  REQUIRE_MESSAGE(r.status == 200, r.body);
  return r.json().as_object();
}

std::string status(Api& api, const std::string& buyer, const std::string& id) {
  const auto r = api.http.get("/orders/" + id, buyer);
  return r.status == 200 ? std::string(r.json().at("status").as_string()) : "";
}

// Waits until the order holds its stock for the buyer with `left` attempts left; returns the
// payment as then shown.
json::object await_buyer(Api& api, const std::string& buyer, const std::string& id, int left) {
  json::object shown;
  const bool waiting = tests::wait_until(30s, [&] {
    shown = payment(api, buyer, id);
    return status(api, buyer, id) == "AWAITING_PAYMENT" && shown.contains("due_at") &&
           shown.at("attempts_left").to_number<int>() == left;
  });
  REQUIRE_MESSAGE(waiting, "the order never waited for its buyer: " << json::serialize(shown));
  return shown;
}

HttpResult pay(Api& api, const std::string& buyer, const std::string& id,
               const std::string& token) {
  return api.http.post("/orders/" + id + "/payment", json::object{{"payment_token", token}}, buyer);
}

}  // namespace

TEST_CASE("an order placed without a token waits for its buyer, who pays it later") {
  Api api;
  const auto seller = api.user("seller").second;
  const auto buyer = api.user("buyer").second;
  const std::string product = api.product(seller, 12.5, 3);
  const std::string id = place(api, buyer, product, 2, "");
  const json::object waiting = await_buyer(api, buyer, id, 3);
  CHECK(waiting.at("status").as_string() == "PENDING");
  CHECK(waiting.at("attempts").as_array().empty());

  // Only the buyer pays, with a token, and only their own order.
  const auto other = api.user("buyer").second;
  CHECK(pay(api, other, id, "tok_ok").status == 404);
  CHECK(pay(api, seller, id, "tok_ok").status == 403);
  const auto missing = api.http.post("/orders/" + id + "/payment", json::object{}, buyer);
  CHECK(missing.status == 422);
  CHECK(missing.body.find("payment_token") != std::string::npos);

  // The order's id in capitals names the same order, answered with its own spelling; a
  // repeated Idempotency-Key replays the answer with its Location.
  std::string upper = id;
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  CHECK(api.http.get("/orders/" + upper, buyer).json().at("id").as_string() == id);
  const auto paid =
      api.http.post("/orders/" + upper + "/payment", json::object{{"payment_token", "tok_ok"}},
                    buyer, {{"Idempotency-Key", "pay-" + id}});
  REQUIRE_MESSAGE(paid.status == 202, paid.body);
  CHECK(paid.header("location") == "/orders/" + id + "/payment");
  CHECK(paid.json().at("order_id").as_string() == id);
  const auto replayed =
      api.http.post("/orders/" + upper + "/payment", json::object{{"payment_token", "tok_ok"}},
                    buyer, {{"Idempotency-Key", "pay-" + id}});
  CHECK(replayed.status == 202);
  CHECK(replayed.header("idempotent-replayed") == "true");
  CHECK(replayed.header("location") == "/orders/" + id + "/payment");
  CHECK(api.wait_order_status(buyer, id) == "CONFIRMED");
  const json::object done = payment(api, buyer, id);
  CHECK(done.at("status").as_string() == "CHARGED");
  CHECK(done.at("amount").to_number<double>() == 25.0);
  REQUIRE(done.at("attempts").as_array().size() == 1);
  CHECK(done.at("attempts").as_array()[0].at("outcome").as_string() == "CHARGED");
  CHECK_FALSE(done.contains("due_at"));
  // Paid once: a second payment is refused, nothing is charged twice.
  CHECK(pay(api, buyer, id, "tok_ok").status == 409);
}

TEST_CASE("a wait on an order ends once the order waits for its buyer to pay") {
  Api api;
  const auto seller = api.user("seller").second;
  const auto buyer = api.user("buyer").second;
  const std::string product = api.product(seller, 12.5, 3);
  // Without a token nothing moves until the buyer pays: the wait ends there, answered with the
  // order as it is then (still only accepted), not after the 30 s it asked for.
  const auto r = api.http.post("/orders", json::object{{"lines", json::array{line(product, 1)}}},
                               buyer, {{"Prefer", "wait=30"}});
  REQUIRE_MESSAGE(r.status == 202, r.body);
  CHECK(r.json().at("status").as_string() == "AWAITING_PAYMENT");
  CHECK(r.header("preference-applied") == "wait=30");
  const std::string id(r.json().at("id").as_string());

  // While the payment runs the order waits for nothing from its buyer: no window shows, and a
  // wait holds again, until the outcome.
  const auto paying = pay(api, buyer, id, "tok_ok");
  REQUIRE_MESSAGE(paying.status == 202, paying.body);
  CHECK_FALSE(paying.json().as_object().contains("due_at"));
  CHECK_FALSE(paying.json().as_object().contains("attempts_left"));
  const auto done = api.http.request("GET", "/orders/" + id, {},
                                     {{"Authorization", "Bearer " + buyer}, {"Prefer", "wait=30"}});
  REQUIRE_MESSAGE(done.status == 200, done.body);
  CHECK(done.json().at("status").as_string() == "CONFIRMED");
  CHECK(done.header("preference-applied") == "wait=30");

  // A declined card with attempts left: the wait ends when the order waits for another card.
  const auto declined = api.http.post(
      "/orders",
      json::object{{"lines", json::array{line(product, 1)}}, {"payment_token", "tok_decline"}},
      buyer, {{"Prefer", "wait=30"}});
  REQUIRE_MESSAGE(declined.status == 202, declined.body);
  CHECK(declined.json().at("status").as_string() == "AWAITING_PAYMENT");
  CHECK(declined.header("preference-applied") == "wait=30");
  const json::object shown = payment(api, buyer, std::string(declined.json().at("id").as_string()));
  CHECK(shown.at("attempts_left").to_number<int>() == 2);
  REQUIRE(shown.at("attempts").as_array().size() == 1);
  CHECK(shown.at("attempts").as_array()[0].at("outcome").as_string() == "DECLINED");
}

TEST_CASE("a declined card leaves the order waiting, and another card pays it") {
  Api api;
  const auto seller = api.user("seller").second;
  const auto buyer = api.user("buyer").second;
  const std::string product = api.product(seller, 7, 1);
  const std::string id = place(api, buyer, product, 1, "tok_decline");
  const json::object waiting = await_buyer(api, buyer, id, 2);
  const auto& attempts = waiting.at("attempts").as_array();
  REQUIRE(attempts.size() == 1);
  CHECK(attempts[0].at("attempt").to_number<int>() == 1);
  CHECK(attempts[0].at("outcome").as_string() == "DECLINED");
  CHECK(attempts[0].at("reason").as_string() == "insufficient_funds");

  // The only unit stays held for this buyer: another order for it is rejected meanwhile.
  const auto rival = api.user("buyer").second;
  const std::string lost = place(api, rival, product, 1, "tok_ok");
  CHECK(api.wait_order_status(rival, lost) == "REJECTED");

  REQUIRE(pay(api, buyer, id, "tok_ok").status == 202);
  CHECK(api.wait_order_status(buyer, id) == "CONFIRMED");
  json::object done;
  tests::wait_until(10s, [&] {
    done = payment(api, buyer, id);
    return done.at("attempts").as_array().size() == 2;
  });
  REQUIRE(done.at("attempts").as_array().size() == 2);
  CHECK(done.at("attempts").as_array()[1].at("outcome").as_string() == "CHARGED");
  CHECK(done.at("status").as_string() == "CHARGED");
}

TEST_CASE("the last declined attempt cancels the order and releases its stock") {
  Api api(false, {}, {{"order", {{"BAZAAR_ORDER_PAYMENT_ATTEMPTS", "2"}}}});
  const auto seller = api.user("seller").second;
  const auto buyer = api.user("buyer").second;
  const std::string product = api.product(seller, 3, 2);
  const std::string id = place(api, buyer, product, 2, "tok_decline");
  await_buyer(api, buyer, id, 1);
  REQUIRE(pay(api, buyer, id, "tok_decline").status == 202);
  CHECK(api.wait_order_status(buyer, id) == "CANCELLED");
  const auto order = api.http.get("/orders/" + id, buyer);
  CHECK(order.json().at("reason").as_string() == "payment_declined");
  json::object done;
  tests::wait_until(10s, [&] {
    done = payment(api, buyer, id);
    return done.at("attempts").as_array().size() == 2;
  });
  REQUIRE(done.at("attempts").as_array().size() == 2);
  CHECK(done.at("status").as_string() == "DECLINED");
  CHECK(pay(api, buyer, id, "tok_ok").status == 409);
  // Both units are back on sale.
  const std::string next = place(api, buyer, product, 2, "tok_ok");
  CHECK(api.wait_order_status(buyer, next) == "CONFIRMED");
}

TEST_CASE("an unpaid order is cancelled when its payment window closes") {
  Api api(false, {}, {{"order", {{"BAZAAR_ORDER_PAYMENT_WINDOW_MS", "1500"}}}});
  const auto seller = api.user("seller").second;
  const auto buyer = api.user("buyer").second;
  const std::string product = api.product(seller, 4, 2);
  const std::string id = place(api, buyer, product, 2, "");
  CHECK(api.wait_order_status(buyer, id) == "CANCELLED");
  const auto order = api.http.get("/orders/" + id, buyer);
  CHECK(order.json().at("reason").as_string() == "payment_timeout");
  CHECK(pay(api, buyer, id, "tok_ok").status == 409);
  const std::string next = place(api, buyer, product, 2, "tok_ok");
  CHECK(api.wait_order_status(buyer, next) == "CONFIRMED");
}

namespace {

HttpResult refund(Api& api, const std::string& token, const std::string& id, json::object body) {
  return api.http.post("/orders/" + id + "/refunds", body, token);
}

// The payment once `refunded` (major units) went back, or what was last shown.
json::object refunded(Api& api, const std::string& token, const std::string& id, double amount) {
  json::object shown;
  tests::wait_until(20s, [&] {
    shown = payment(api, token, id);
    return shown.at("refunded").to_number<double>() == amount;
  });
  return shown;
}

// A confirmed order of `quantity` units of a product priced `price` with `stock` units, and
// who made it: its buyer, the product's seller and an admin (tokens).
struct Confirmed {
  std::string buyer, admin, product, id;
};

Confirmed confirmed_order(Api& api, double price, int stock, int quantity) {
  Confirmed c;
  const auto seller = api.user("seller").second;
  c.buyer = api.user("buyer").second;
  c.admin = api.admin_token();
  c.product = api.product(seller, price, stock);
  c.id = place(api, c.buyer, c.product, quantity, "tok_ok");
  REQUIRE(api.wait_order_status(c.buyer, c.id) == "CONFIRMED");
  return c;
}

// A product's stock as the catalog shows it.
long long stock_of(Api& api, const std::string& product) {
  const auto r = api.http.get("/products/" + product);
  return r.status == 200 ? r.json().at("stock").to_number<long long>() : -1;
}

}  // namespace

TEST_CASE("an admin refunds part of a confirmed order, then the rest, and nothing more") {
  Api api;
  const Confirmed c = confirmed_order(api, 10, 5, 2);
  const std::string &buyer = c.buyer, &admin = c.admin, &product = c.product, &id = c.id;

  // Only an admin refunds; a reason is required; an amount is positive and within the charge.
  CHECK(refund(api, buyer, id, {{"reason", "dented"}}).status == 403);
  CHECK(refund(api, admin, id, {}).status == 422);
  CHECK(refund(api, admin, id, {{"reason", "dented"}, {"amount", -1}}).status == 422);
  CHECK(refund(api, admin, id, {{"reason", "dented"}, {"amount", 0.001}}).status == 422);
  const auto too_much = refund(api, admin, id, {{"reason", "dented"}, {"amount", 25}});
  CHECK(too_much.status == 409);
  CHECK(too_much.body.find("exceeds") != std::string::npos);
  CHECK(refund(api, admin, api.bus.new_id(), {{"reason", "x"}}).status == 404);

  const auto part = refund(api, admin, id, {{"reason", "dented"}, {"amount", 5}});
  REQUIRE_MESSAGE(part.status == 202, part.body);
  CHECK(part.json().at("cancels_order").as_bool() == false);
  CHECK(part.header("location") == "/orders/" + id + "/payment");
  const json::object after_part = refunded(api, buyer, id, 5);
  CHECK(after_part.at("status").as_string() == "CHARGED");
  CHECK(status(api, buyer, id) == "CONFIRMED");

  // The rest of a confirmed order: money back, stock back, order cancelled.
  const auto rest = refund(api, admin, id, {{"reason", "changed mind"}});
  REQUIRE_MESSAGE(rest.status == 202, rest.body);
  CHECK(rest.json().at("amount").to_number<double>() == 15);
  CHECK(rest.json().at("cancels_order").as_bool());
  CHECK(tests::wait_until(20s, [&] { return status(api, buyer, id) == "CANCELLED"; }));
  const json::object done = refunded(api, buyer, id, 20);
  CHECK(done.at("status").as_string() == "REFUNDED");
  const auto& refunds = done.at("refunds").as_array();
  REQUIRE(refunds.size() == 2);
  CHECK(tests::wait_until(10s, [&] {
    const json::object now = payment(api, buyer, id);
    const auto& list = now.at("refunds").as_array();
    return list.size() == 2 && list[0].at("status") == "REFUNDED" &&
           list[1].at("status") == "REFUNDED";
  }));
  CHECK(tests::wait_until(20s, [&] { return stock_of(api, product) == 5; }));

  // Nothing is left: a third refund is refused.
  CHECK(refund(api, admin, id, {{"reason", "again"}}).status == 409);
  // The buyer was told about each refund.
  CHECK(tests::wait_until(20s, [&] {
    const auto list = api.http.get("/notifications", buyer);
    const std::string text = json::serialize(list.json());
    std::size_t n = 0;
    for (auto at = text.find("order_refunded"); at != std::string::npos;
         at = text.find("order_refunded", at + 1)) {
      ++n;
    }
    return n == 2;
  }));
}

TEST_CASE("after shipping, a full refund only returns the money") {
  Api api;
  const Confirmed c = confirmed_order(api, 8, 3, 1);
  const std::string &buyer = c.buyer, &admin = c.admin, &product = c.product, &id = c.id;
  REQUIRE(
      api.http
          .send("PATCH", "/orders/" + id + "/status", json::object{{"status", "SHIPPED"}}, admin)
          .status == 202);
  REQUIRE(tests::wait_until(20s, [&] { return status(api, buyer, id) == "SHIPPED"; }));
  const auto all = refund(api, admin, id, {{"reason", "lost in transit"}});
  REQUIRE_MESSAGE(all.status == 202, all.body);
  CHECK(all.json().at("cancels_order").as_bool() == false);
  const json::object done = refunded(api, buyer, id, 8);
  CHECK(done.at("status").as_string() == "REFUNDED");
  CHECK(status(api, buyer, id) == "SHIPPED");
  // The shipped unit stays sold (edge's product view follows inventory's events, so it may lag).
  CHECK(tests::wait_until(20s, [&] { return stock_of(api, product) == 2; }));
  CHECK(refund(api, admin, id, {{"reason", "again"}, {"amount", 1}}).status == 409);
}

TEST_CASE("scripts/demo walks a purchase and a declined card through the running edge") {
  Api api;
  const std::string base = tests::required_env("BAZAAR_RUN_DIR") + "/" + tests::unique_name("demo");
  // sh keeps the demo's standard output (the answers) in a file of its own; the commands it
  // shows go to the log.
  tests::ChildProcess demo("/bin/sh",
                           {"-c", R"(exec "$@" >"$0")", base + ".out",
                            std::string(BAZAAR_SOURCE_ROOT) + "/scripts/demo"},
                           {{"BAZAAR_EDGE_PORT", std::to_string(api.http.port())}}, base + ".log");
  const int code = demo.wait(120s);
  std::ifstream in(base + ".out");
  const std::string out{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  REQUIRE_MESSAGE(code == 0, "scripts/demo exited " << code << ":\n" << out);
  CHECK(out.find("Done.") != std::string::npos);
  // The first order confirmed, and its notifications were there to show.
  CHECK(out.find(R"("status":"CONFIRMED")") != std::string::npos);
  CHECK(out.find(R"("kind":"order_confirmed")") != std::string::npos);
  // The declined card: the order waited with two attempts left, and another card confirmed it.
  const auto declined = out.find("tok_decline");
  REQUIRE(declined != std::string::npos);
  CHECK(out.find(R"("status":"AWAITING_PAYMENT")", declined) != std::string::npos);
  CHECK(out.find(R"("attempts_left":2)", declined) != std::string::npos);
  const std::string confirmed = R"("status":"CONFIRMED")";
  const auto last = out.rfind(R"("status":)");
  REQUIRE(last != std::string::npos);
  CHECK(out.compare(last, confirmed.size(), confirmed) == 0);
}
