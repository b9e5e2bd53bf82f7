#include "saga_messages.hpp"

#include <doctest/doctest.h>

#include <string>

#include "events/schema_registry.hpp"

using namespace bazaar::order;

namespace {

const bazaar::events::SchemaRegistry& schemas() {
  static const bazaar::events::SchemaRegistry registry(BAZAAR_SCHEMAS_DIR);
  return registry;
}

OrderRecord sample(Status status) {
  OrderRecord o;
  o.order_id = "0190f5c2-7a1b-7c3d-8e4f-123456789abc";
  o.buyer_id = "0190f5c2-7a1b-7c3d-8e4f-000000000001";
  o.payment_token = "tok_ok";
  o.currency = "EUR";
  o.total = 2500;
  o.lines = {
      {"0190f5c2-7a1b-7c3d-8e4f-000000000101", 2, 1250, "0190f5c2-7a1b-7c3d-8e4f-000000000201"}};
  o.saga.status = status;
  return o;
}

void check_valid(const Message& m) {
  CAPTURE(m.type);
  const auto valid = schemas().validate(m.type, m.payload);
  CHECK_MESSAGE(valid.ok(), (valid.ok() ? std::string{} : valid.error().message));
}

}  // namespace

TEST_CASE("every message of every step of the saga satisfies its schema") {
  check_valid(placement_message(sample(Status::kPlaced)));
  auto rejected = sample(Status::kRejected);
  rejected.saga.reason = "unknown_product";
  const Message r = placement_message(rejected);
  CHECK(r.type == "bazaar.order.OrderRejected.v1");
  check_valid(r);

  for (const Status s : {Status::kPlaced, Status::kAwaitingStock, Status::kAwaitingPayment,
                         Status::kConfirmed, Status::kShipped, Status::kCompensating}) {
    for (const Input input :
         {Input::kPlace, Input::kStockReserved, Input::kStockRejected, Input::kPaymentCharged,
          Input::kPaymentDeclined, Input::kReservationCommitted, Input::kDeadline, Input::kCancel,
          Input::kShip, Input::kDeliver, Input::kPay}) {
      OrderRecord before = sample(s);
      before.saga.stock_held = s != Status::kPlaced;
      const Decision d = decide(before.saga, input, "reason");
      for (const auto& m : decision_messages(before, d, "bazaar.order.CancelOrder.v1",
                                             "2026-01-01T00:10:00.000Z", 780)) {
        check_valid(m);
      }
    }
  }
}

TEST_CASE("commands go to their service's topic and events to order.events") {
  const OrderRecord placed = sample(Status::kPlaced);
  const auto sent = decision_messages(placed, decide(placed.saga, Input::kPlace), "x",
                                      "2026-01-01T00:10:00.000Z", 780);
  REQUIRE(sent.size() == 2);  // ReserveStock, then OrderStatusChanged
  CHECK(sent[0].type == "bazaar.inventory.ReserveStock.v1");
  CHECK(std::string(sent[0].topic) == "inventory.commands");
  CHECK(sent[1].type == "bazaar.order.OrderStatusChanged.v1");
  CHECK(std::string(sent[1].topic) == "order.events");
  const auto late =
      unknown_order_messages(placed.order_id, decide(std::nullopt, Input::kPaymentCharged));
  REQUIRE_FALSE(late.empty());
  CHECK(late[0].type == "bazaar.payment.RefundPayment.v1");
  CHECK(late[0].payload.at("reason").as_string() == "unknown_order");
}
