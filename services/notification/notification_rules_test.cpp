#include "notification_rules.hpp"

#include <doctest/doctest.h>

#include <boost/json/parse.hpp>
#include <string>
#include <tuple>
#include <vector>

#include "events/schema_registry.hpp"

namespace bazaar::notification {
namespace {

const std::string kOrder = "0190f5c2-7a1b-7c3d-8e4f-00000000000d";
const std::string kBuyer = "0190f5c2-7a1b-7c3d-8e4f-0000000000b1";
const std::string kSellerA = "0190f5c2-7a1b-7c3d-8e4f-0000000000c1";
const std::string kSellerB = "0190f5c2-7a1b-7c3d-8e4f-0000000000c2";
const std::string kAdmin1 = "0190f5c2-7a1b-7c3d-8e4f-0000000000a1";
const std::string kAdmin2 = "0190f5c2-7a1b-7c3d-8e4f-0000000000a2";

std::string line(const std::string& seller) {
  return R"({"product_id":"0190f5c2-7a1b-7c3d-8e4f-000000000001","quantity":1,"unit_price":100,
    "seller_id":")" +
         seller + R"("})";
}

std::string order_json(const std::string& extra) {
  return R"({"order_id":")" + kOrder + R"(","buyer_id":")" + kBuyer + "\"" + extra + "}";
}

const std::string kLines = R"(,"total":300,"currency":"EUR","lines":[)" + line(kSellerA) + "," +
                           line(kSellerB) + "," + line(kSellerA) + "]";

using Expected = std::vector<std::tuple<std::string, std::string, std::string>>;

struct Row {
  const char* name;
  const char* type;
  std::string payload;
  Expected expected;  // recipient, role, kind
};

}  // namespace

TEST_CASE("notification rules table") {
  const std::vector<std::string> admins = {kAdmin1, kAdmin2};
  const std::vector<Row> rows = {
      {"placed tells every admin",
       "bazaar.order.OrderPlaced.v1",
       order_json(kLines),
       {{kAdmin1, "admin", "new_order"}, {kAdmin2, "admin", "new_order"}}},
      {"confirmed tells the buyer and each seller once",
       "bazaar.order.OrderConfirmed.v1",
       order_json(kLines),
       {{kBuyer, "buyer", "order_confirmed"},
        {kSellerA, "seller", "item_sold"},
        {kSellerB, "seller", "item_sold"}}},
      {"cancelled on payment decline is a failure",
       "bazaar.order.OrderCancelled.v1",
       order_json(R"(,"reason":"payment_declined")"),
       {{kBuyer, "buyer", "order_cancelled"},
        {kAdmin1, "admin", "order_failed"},
        {kAdmin2, "admin", "order_failed"}}},
      {"cancelled on timeout is a failure",
       "bazaar.order.OrderCancelled.v1",
       order_json(R"(,"reason":"timeout")"),
       {{kBuyer, "buyer", "order_cancelled"},
        {kAdmin1, "admin", "order_failed"},
        {kAdmin2, "admin", "order_failed"}}},
      {"refunded tells only the buyer",
       "bazaar.order.OrderCancelled.v1",
       order_json(R"(,"reason":"refunded")"),
       {{kBuyer, "buyer", "order_cancelled"}}},
      {"cancelled by buyer tells only the buyer",
       "bazaar.order.OrderCancelled.v1",
       order_json(R"(,"reason":"cancelled_by_buyer")"),
       {{kBuyer, "buyer", "order_cancelled"}}},
      {"cancelled by admin tells only the buyer",
       "bazaar.order.OrderCancelled.v1",
       order_json(R"(,"reason":"cancelled_by_admin")"),
       {{kBuyer, "buyer", "order_cancelled"}}},
      {"rejected tells every admin",
       "bazaar.order.OrderRejected.v1",
       order_json(R"(,"reason":"out_of_stock")"),
       {{kAdmin1, "admin", "order_failed"}, {kAdmin2, "admin", "order_failed"}}},
      {"shipped tells the buyer",
       "bazaar.order.OrderStatusChanged.v1",
       order_json(R"(,"status":"SHIPPED","previous_status":"CONFIRMED")"),
       {{kBuyer, "buyer", "order_shipped"}}},
      {"delivered tells the buyer",
       "bazaar.order.OrderStatusChanged.v1",
       order_json(R"(,"status":"DELIVERED","previous_status":"SHIPPED")"),
       {{kBuyer, "buyer", "order_delivered"}}},
      {"other status changes tell nobody",
       "bazaar.order.OrderStatusChanged.v1",
       order_json(R"(,"status":"AWAITING_PAYMENT","previous_status":"AWAITING_STOCK")"),
       {}},
      {"other event types tell nobody",
       "bazaar.order.OrderCommandRejected.v1",
       order_json(R"(,"command":"x","reason":"y")"),
       {}},
      {"payment events tell nobody", "bazaar.payment.PaymentCharged.v1", order_json(""), {}},
      {"a refund tells the buyer",
       "bazaar.order.OrderRefunded.v1",
       order_json(R"(,"refund_id":"0190f5c2-7a1b-7c3d-8e4f-0000000000e1","amount":250,)"
                  R"("refunded_total":250,"total":1000,"currency":"EUR","reason":"dented")"),
       {{kBuyer, "buyer", "order_refunded"}}},
      {"an order waiting for its payment tells the buyer",
       "bazaar.order.OrderAwaitingPayment.v1",
       order_json(R"(,"total":300,"currency":"EUR","due_at":"2026-11-23T10:10:00Z",)"
                  R"("attempts_used":1,"attempts_left":2,"reason":"payment_declined")"),
       {{kBuyer, "buyer", "payment_required"}}},
      {"an event without order id tells nobody",
       "bazaar.order.OrderPlaced.v1",
       R"({"buyer_id":")" + kBuyer + "\"}",
       {}},
  };
  for (const auto& row : rows) {
    CAPTURE(row.name);
    const auto got =
        notifications_for(row.type, boost::json::parse(row.payload).as_object(), admins);
    REQUIRE(got.size() == row.expected.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
      CHECK(got[i].recipient_id == std::get<0>(row.expected[i]));
      CHECK(got[i].recipient_role == std::get<1>(row.expected[i]));
      CHECK(got[i].kind == std::get<2>(row.expected[i]));
      CHECK(got[i].order_id == kOrder);
      CHECK(got[i].title.find(kOrder) != std::string::npos);
      CHECK(got[i].body.find(kOrder) != std::string::npos);
    }
  }
}

TEST_CASE("admin notifications go to each distinct admin and none without admins") {
  const auto payload = boost::json::parse(order_json(kLines)).as_object();
  CHECK(notifications_for("bazaar.order.OrderPlaced.v1", payload, {}).empty());
  const auto twice = notifications_for("bazaar.order.OrderPlaced.v1", payload, {kAdmin1, kAdmin1});
  CHECK(twice.size() == 1);
}

TEST_CASE("cancellation reasons that are not failures") {
  CHECK_FALSE(cancellation_is_failure("refunded"));
  CHECK_FALSE(cancellation_is_failure("cancelled_by_buyer"));
  CHECK_FALSE(cancellation_is_failure("cancelled_by_admin"));
  CHECK_FALSE(cancellation_is_failure("cancelled"));
  CHECK(cancellation_is_failure("payment_declined"));
  CHECK(cancellation_is_failure("timeout"));
  CHECK(cancellation_is_failure("reservation_expired"));
  CHECK(cancellation_is_failure(""));
}

TEST_CASE("only order outcomes are notifying types") {
  CHECK(notifies("bazaar.order.OrderPlaced.v1"));
  CHECK(notifies("bazaar.order.OrderStatusChanged.v1"));
  CHECK_FALSE(notifies("bazaar.order.PlaceOrder.v1"));
  CHECK_FALSE(notifies("bazaar.identity.UserRegistered.v1"));
}

TEST_CASE("the payment reminder says why, until when and how many attempts are left") {
  const auto notes = notifications_for(
      "bazaar.order.OrderAwaitingPayment.v1",
      boost::json::parse(order_json(R"(,"due_at":"2026-11-23T10:10:00Z","attempts_left":1,)"
                                    R"("reason":"payment_declined")"))
          .as_object(),
      {});
  REQUIRE(notes.size() == 1);
  CHECK(notes[0].body.find("declined") != std::string::npos);
  CHECK(notes[0].body.find("2026-11-23T10:10:00Z") != std::string::npos);
  CHECK(notes[0].body.find("1 attempt left") != std::string::npos);
}

TEST_CASE("the refund notice names the amount, the reason and the total refunded") {
  const auto notes = notifications_for(
      "bazaar.order.OrderRefunded.v1",
      boost::json::parse(order_json(R"(,"refund_id":"0190f5c2-7a1b-7c3d-8e4f-0000000000e1",)"
                                    R"("amount":205,"refunded_total":1005,"total":2000,)"
                                    R"("currency":"EUR","reason":"dented")"))
          .as_object(),
      {});
  REQUIRE(notes.size() == 1);
  CHECK(notes[0].body.find("2.05 EUR") != std::string::npos);
  CHECK(notes[0].body.find("dented") != std::string::npos);
  CHECK(notes[0].body.find("10.05 EUR refunded in all") != std::string::npos);
}

TEST_CASE("the created payload satisfies its schema") {
  static const events::SchemaRegistry schemas(BAZAAR_SCHEMAS_DIR);
  const auto notes = notifications_for("bazaar.order.OrderConfirmed.v1",
                                       boost::json::parse(order_json(kLines)).as_object(), {});
  REQUIRE_FALSE(notes.empty());
  for (const auto& n : notes) {
    const auto payload =
        created_payload("0190f5c2-7a1b-7c3d-8e4f-0000000000ff", n, "2026-11-23T10:00:00.000Z")
            .to_json();
    const auto valid = schemas.validate("bazaar.notification.NotificationCreated.v1", payload);
    CHECK_MESSAGE(valid.ok(), (valid.ok() ? std::string{} : valid.error().message));
    CHECK(payload.at("order_id").as_string() == kOrder);
  }
}

}  // namespace bazaar::notification
