#include "whatif.hpp"

#include <doctest/doctest.h>

#include <memory>

#include "contracts/contracts.hpp"
#include "order_record.hpp"
#include "saga_messages.hpp"

using namespace bazaar;
using namespace bazaar::ctl;
using order::Input;

namespace {

events::RandomSource counting_random() {
  auto n = std::make_shared<std::uint64_t>(7);
  return [n] { return (*n)++ * 0x9e3779b97f4a7c15ULL; };
}

// A recorded history made the way the order service makes it: each input as another service
// sends it, and what the real saga decided for it, caused by that input.
struct History {
  events::ManualClock clock{events::Clock::time_point{std::chrono::seconds{1'767'323'045}}};
  events::UuidV7Generator ids{clock, counting_random()};
  events::EnvelopeFactory others{"others", clock, ids, counting_random()};
  events::EnvelopeFactory order_service{"order", clock, ids, counting_random()};
  std::vector<Record> records;
  std::map<std::string, std::int64_t> offsets;
  order::OrderRecord o;

  History() {
    o.order_id = ids.next().str();
    o.buyer_id = ids.next().str();
    o.payment_token = "tok_ok";
    o.saga.has_token = true;
    o.currency = "EUR";
    o.total = 1200;
    o.lines = {{ids.next().str(), 2, 600, ids.next().str()}};
  }

  const events::Envelope& add(const std::string& topic, events::Envelope e) {
    clock.advance(std::chrono::milliseconds{10});
    records.push_back(make_record(topic, 0, offsets[topic]++, 0, o.order_id,
                                  events::encode_payload(e), events::to_headers(e)));
    return *records.back().event;
  }

  // What the order service sends for `m`, caused by `cause` (none: the deadline scanner).
  void send(const order::Message& m, const events::Envelope* cause) {
    events::Envelope e = order_service.make(m.type, o.order_id, m.payload, cause);
    e.correlation_id = o.order_id;
    add(m.topic, std::move(e));
  }

  void decide_and_send(Input input, const events::Envelope* cause, const std::string& trigger) {
    const auto d = order::decide(o.saga, input, {});
    for (const auto& m : order::decision_messages(o, d, trigger, "2026-01-02T03:04:05Z", 0)) {
      send(m, cause);
    }
    o.saga = d.saga;
  }

  void place() {
    contracts::order::PlaceOrderV1 cmd{.order_id = o.order_id,
                                       .buyer_id = o.buyer_id,
                                       .lines = {{o.lines[0].product_id, 2}},
                                       .payment_token = "tok_ok"};
    events::Envelope e = others.make(cmd.kType, o.order_id, cmd.to_json());
    e.correlation_id = o.order_id;
    const auto cause = add("order.commands", e);
    send(order::placement_message(o), &cause);
    decide_and_send(Input::kPlace, &cause, cause.type);
  }

  template <typename Payload>
  void reply(const std::string& topic, const Payload& payload, Input input) {
    events::Envelope e = others.make(Payload::kType, o.order_id, payload.to_json());
    e.correlation_id = o.order_id;
    const auto cause = add(topic, e);
    decide_and_send(input, &cause, cause.type);
  }

  void happy_path() {
    place();
    reply("inventory.events",
          contracts::inventory::StockReservedV1{.order_id = o.order_id,
                                                .lines = {{o.lines[0].product_id, 2}},
                                                .expires_at = "2026-01-02T03:04:05.000Z"},
          Input::kStockReserved);
    reply("payment.events",
          contracts::payment::PaymentChargedV1{.order_id = o.order_id,
                                               .payment_id = ids.next().str(),
                                               .amount = 1200,
                                               .currency = "EUR"},
          Input::kPaymentCharged);
    reply("inventory.events", contracts::inventory::ReservationCommittedV1{.order_id = o.order_id},
          Input::kReservationCommitted);
  }
};

}  // namespace

TEST_CASE("this build's saga over its own recorded history is identical") {
  History h;
  h.happy_path();
  REQUIRE(h.o.saga.status == order::Status::kConfirmed);
  const auto report = what_if(h.records, order::decide);
  CHECK(report.orders == 1);
  CHECK(report.inputs == 4);
  CHECK(report.identical());
}

TEST_CASE("a changed rule shows the order and the input it changes") {
  History h;
  h.happy_path();
  // A rule that confirms on the charge without committing the reservation first.
  const Decide changed = [](const std::optional<order::Saga>& saga, Input input,
                            std::string_view reason, int attempt) {
    order::Decision d = order::decide(saga, input, reason, attempt);
    if (input == Input::kPaymentCharged && saga &&
        saga->status == order::Status::kAwaitingPayment) {
      d.commands.clear();
      d.saga.status = order::Status::kConfirmed;
    }
    return d;
  };
  const auto report = what_if(h.records, changed);
  REQUIRE_FALSE(report.identical());
  const auto& diff = report.diffs.front();
  CHECK(diff.order_id == h.o.order_id);
  CHECK(diff.input == contracts::payment::PaymentChargedV1::kType);
  CHECK(std::find(diff.recorded.begin(), diff.recorded.end(),
                  std::string(contracts::inventory::CommitReservationV1::kType)) !=
        diff.recorded.end());
  CHECK(std::find(diff.would.begin(), diff.would.end(),
                  std::string(contracts::order::OrderConfirmedV1::kType)) != diff.would.end());
}

TEST_CASE("deadline steps are replayed where the scanner took them") {
  History h;
  h.place();
  h.reply("inventory.events",
          contracts::inventory::StockReservedV1{.order_id = h.o.order_id,
                                                .lines = {{h.o.lines[0].product_id, 2}},
                                                .expires_at = "2026-01-02T03:04:05.000Z"},
          Input::kStockReserved);
  h.clock.advance(std::chrono::seconds{10});
  h.decide_and_send(Input::kDeadline, nullptr, "deadline");  // the scanner: no cause
  REQUIRE(h.o.saga.status == order::Status::kCompensating);
  const auto report = what_if(h.records, order::decide);
  CHECK(report.inputs == 3);
  CHECK(report.identical());
  CHECK(what_if(h.records, order::decide, std::string("someone-else")).orders == 0);
}

TEST_CASE("an admin's partial refund and its payout are what the service does") {
  History h;
  h.happy_path();
  const std::string refund_id = h.ids.next().str();
  contracts::order::RefundOrderV1 cmd{.order_id = h.o.order_id,
                                      .refund_id = refund_id,
                                      .amount = 200,
                                      .reason = "scratched",
                                      .actor_id = h.ids.next().str(),
                                      .actor_role = "admin"};
  events::Envelope asked = h.others.make(cmd.kType, h.o.order_id, cmd.to_json());
  asked.correlation_id = h.o.order_id;
  const auto refund = h.add("order.commands", asked);
  h.send(order::partial_refund_message(h.o, 200), &refund);
  contracts::payment::PaymentRefundedV1 paid{.order_id = h.o.order_id,
                                             .payment_id = std::nullopt,
                                             .amount = 200,
                                             .currency = "EUR",
                                             .refunded_now = 200,
                                             .refund_id = refund_id,
                                             .reason = std::nullopt};
  events::Envelope answer = h.others.make(paid.kType, h.o.order_id, paid.to_json());
  answer.correlation_id = h.o.order_id;
  const auto payout = h.add("payment.events", answer);
  h.send(order::refunded_message(h.o, refund_id, 200, 200, "scratched"), &payout);
  h.decide_and_send(Input::kPaymentRefunded, &payout, payout.type);
  const auto report = what_if(h.records, order::decide);
  CHECK(report.inputs == 6);
  CHECK(report.identical());
}

TEST_CASE("replies of one millisecond are replayed in the order the service handled them") {
  History h;
  h.happy_path();
  contracts::order::CancelOrderV1 cancel{.order_id = h.o.order_id,
                                         .actor_id = h.ids.next().str(),
                                         .actor_role = "admin",
                                         .reason = std::nullopt};
  events::Envelope asked = h.others.make(cancel.kType, h.o.order_id, cancel.to_json());
  asked.correlation_id = h.o.order_id;
  const auto cause = h.add("order.commands", asked);
  h.decide_and_send(Input::kCancel, &cause, cause.type);
  // Both compensations answer within one millisecond; the refund's answer is read first, but
  // the service handled the stock's first, and only the second ends the order.
  events::Envelope released = h.others.make(
      contracts::inventory::StockReleasedV1::kType, h.o.order_id,
      contracts::inventory::StockReleasedV1{.order_id = h.o.order_id, .reason = "cancelled"}
          .to_json());
  events::Envelope refunded =
      h.others.make(contracts::payment::PaymentRefundedV1::kType, h.o.order_id,
                    contracts::payment::PaymentRefundedV1{
                        .order_id = h.o.order_id, .amount = 1200, .currency = "EUR"}
                        .to_json());
  released.correlation_id = refunded.correlation_id = h.o.order_id;
  refunded.time = released.time;
  const auto refund_reply = h.add("payment.events", refunded);
  const auto stock_reply = h.add("inventory.events", released);
  h.decide_and_send(Input::kStockReleased, &stock_reply, stock_reply.type);
  h.decide_and_send(Input::kPaymentRefunded, &refund_reply, refund_reply.type);
  REQUIRE(h.o.saga.status == order::Status::kCancelled);
  const auto report = what_if(h.records, order::decide);
  CHECK(report.identical());
}
