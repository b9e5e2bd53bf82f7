#include "orders/order_view.hpp"

#include <doctest/doctest.h>

#include <boost/json/serialize.hpp>

using namespace bazaar::edge;

TEST_CASE("may move follows the saga forward") {
  CHECK(may_move("PLACED", "AWAITING_STOCK"));
  CHECK(may_move("PLACED", "CONFIRMED"));
  CHECK(may_move("PLACED", "REJECTED"));
  CHECK(may_move("AWAITING_STOCK", "AWAITING_PAYMENT"));
  CHECK(may_move("AWAITING_PAYMENT", "CONFIRMED"));
  CHECK(may_move("AWAITING_PAYMENT", "COMPENSATING"));
  CHECK(may_move("COMPENSATING", "CANCELLED"));
  CHECK(may_move("CONFIRMED", "SHIPPED"));
  CHECK(may_move("SHIPPED", "DELIVERED"));
  CHECK(may_move("CONFIRMED", "DELIVERED"));
}

TEST_CASE("may move lets a confirmed order be cancelled through compensation") {
  CHECK(may_move("CONFIRMED", "COMPENSATING"));
  CHECK(may_move("CONFIRMED", "CANCELLED"));
}

TEST_CASE("may move never goes back") {
  CHECK_FALSE(may_move("AWAITING_PAYMENT", "AWAITING_STOCK"));
  CHECK_FALSE(may_move("AWAITING_STOCK", "PLACED"));
  CHECK_FALSE(may_move("CONFIRMED", "AWAITING_PAYMENT"));
  CHECK_FALSE(may_move("COMPENSATING", "CONFIRMED"));
  CHECK_FALSE(may_move("COMPENSATING", "AWAITING_PAYMENT"));
  CHECK_FALSE(may_move("SHIPPED", "CONFIRMED"));
  CHECK_FALSE(may_move("SHIPPED", "CANCELLED"));
}

TEST_CASE("may move leaves terminal statuses alone") {
  for (const char* to :
       {"PLACED", "AWAITING_STOCK", "AWAITING_PAYMENT", "COMPENSATING", "CONFIRMED", "SHIPPED"}) {
    CHECK_FALSE(may_move("REJECTED", to));
    CHECK_FALSE(may_move("CANCELLED", to));
    CHECK_FALSE(may_move("DELIVERED", to));
  }
  CHECK_FALSE(may_move("REJECTED", "CANCELLED"));
  CHECK_FALSE(may_move("CANCELLED", "REJECTED"));
  CHECK_FALSE(may_move("DELIVERED", "CANCELLED"));
}

TEST_CASE("may move accepts the same status and refuses unknown ones") {
  CHECK(may_move("CONFIRMED", "CONFIRMED"));
  CHECK(may_move("CANCELLED", "CANCELLED"));
  CHECK_FALSE(may_move("PLACED", "LOST"));
  CHECK(may_move("SOMETHING_NEW", "CONFIRMED"));
}

TEST_CASE("settled statuses end a wait") {
  for (const char* s : {"CONFIRMED", "REJECTED", "CANCELLED", "SHIPPED", "DELIVERED"}) {
    CHECK(is_settled(s));
  }
  for (const char* s : {"PLACED", "AWAITING_STOCK", "AWAITING_PAYMENT", "COMPENSATING"}) {
    CHECK_FALSE(is_settled(s));
  }
  CHECK(is_outcome("CONFIRMED"));
  CHECK_FALSE(is_outcome("SHIPPED"));
  CHECK(is_known_status("COMPENSATING"));
  CHECK_FALSE(is_known_status("compensating"));
}

TEST_CASE("an order waiting for its buyer answers a wait too, one on its way does not") {
  OrderView order;
  order.status = "AWAITING_PAYMENT";
  CHECK_FALSE(answers_wait(order));  // a charge is on its way
  order.payment_window_open = true;
  CHECK(answers_wait(order));
  order.status = "CONFIRMED";
  order.payment_window_open = false;
  CHECK(answers_wait(order));
  // A window announced before the stock was held answers nothing yet.
  CHECK_FALSE(answers_wait("AWAITING_STOCK", true));
  CHECK_FALSE(answers_wait("AWAITING_STOCK", false));
  CHECK(answers_wait("CANCELLED", false));
}

TEST_CASE("an order renders in its wire shape") {
  OrderView o;
  o.id = "0190f5c2-7a1b-7c3d-8e4f-123456789abc";
  o.buyer_id = "0190f5c2-7a1b-7c3d-8e4f-000000000001";
  o.status = "CANCELLED";
  o.reason = "payment_declined";
  o.total = 2500;
  o.currency = "EUR";
  o.payment_token = "tok_decline";
  o.lines = {{"0190f5c2-7a1b-7c3d-8e4f-000000000002", 2, 1250}};
  o.steps = std::vector<OrderStep>{
      {"PLACED", "PLACED", "", 1'700'000'000'000'000},
      {"CANCELLED", "COMPENSATING", "payment_declined", 1'700'000'001'500'000}};
  o.created_us = 1'700'000'000'000'000;
  o.updated_us = 1'700'000'001'500'000;

  const auto j = to_json(o, true);
  CHECK(j.at("id").as_string() == o.id);
  CHECK(j.at("status").as_string() == "CANCELLED");
  CHECK(j.at("reason").as_string() == "payment_declined");
  CHECK(j.at("total").as_int64() == 25);
  CHECK(j.at("currency").as_string() == "EUR");
  CHECK(j.at("payment_token").as_string() == "tok_decline");
  const auto& line = j.at("lines").as_array().at(0).as_object();
  CHECK(line.at("quantity").as_int64() == 2);
  CHECK(line.at("unit_price").as_double() == doctest::Approx(12.5));
  CHECK_FALSE(line.contains("seller_id"));
  const auto& steps = j.at("steps").as_array();
  REQUIRE(steps.size() == 2);
  CHECK_FALSE(steps.at(0).as_object().contains("reason"));
  CHECK(steps.at(0).as_object().at("previous_status").as_string() == "PLACED");
  CHECK(steps.at(1).as_object().at("reason").as_string() == "payment_declined");
  CHECK(steps.at(1).as_object().at("at").as_string() == "2023-11-14T22:13:21.500Z");
  CHECK(j.at("created_at").as_string() == "2023-11-14T22:13:20.000Z");
  CHECK(j.at("updated_at").as_string() == "2023-11-14T22:13:21.500Z");
}

TEST_CASE("an order without reason steps or token leaves them out") {
  OrderView o;
  o.id = "0190f5c2-7a1b-7c3d-8e4f-123456789abc";
  o.status = "PLACED";
  o.currency = "EUR";
  o.payment_token = "tok_ok";
  const auto j = to_json(o, false);
  CHECK_FALSE(j.contains("reason"));
  CHECK_FALSE(j.contains("steps"));
  CHECK_FALSE(j.contains("payment_token"));
  CHECK(j.at("lines").as_array().empty());
  CHECK(j.at("total").as_int64() == 0);
}
