#include "audit.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <boost/json/object.hpp>
#include <chrono>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "contracts/contracts.hpp"

using namespace bazaar;
using namespace bazaar::ctl;
namespace inv = contracts::inventory;
namespace ord = contracts::order;
namespace pay = contracts::payment;
namespace topic = contracts::topic;

namespace {

constexpr auto kSettle = std::chrono::minutes{5};
const std::string kBuyer = "0190f5e2-0000-7000-8000-00000000b0b0";

events::RandomSource counting_random() {
  auto n = std::make_shared<std::uint64_t>(1);
  return [n] { return (*n)++ * 0x9e3779b97f4a7c15ULL; };
}

std::int64_t ms_of(events::Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::vector<Violation> of(const AuditReport& report, const std::string& invariant) {
  std::vector<Violation> out;
  std::copy_if(report.violations.begin(), report.violations.end(), std::back_inserter(out),
               [&](const Violation& v) { return v.invariant == invariant; });
  return out;
}

// Records as the services write them: envelopes from a factory, each at the next offset of
// partition 0 of its topic, fed to an auditor as they are made.
struct Feed {
  events::ManualClock clock{
      events::Clock::time_point{std::chrono::milliseconds{1'767'323'045'678}}};
  events::UuidV7Generator ids{clock, counting_random()};
  events::EnvelopeFactory factory{"test", clock, ids, counting_random()};
  Auditor auditor{kSettle};
  std::map<std::string, std::int64_t> offsets;

  std::string new_id() { return ids.next().str(); }

  Record record(const std::string& topic_name, const events::Envelope& e) {
    return make_record(topic_name, 0, offsets[topic_name]++, ms_of(clock.now()), e.subject,
                       events::encode_payload(e), events::to_headers(e));
  }

  template <class Payload>
  events::Envelope envelope(const std::string& subject, const Payload& payload) {
    return factory.make(Payload::kType, subject, payload.to_json());
  }

  /// Feeds one record; answers its where().
  std::string feed(const Record& r) {
    auditor.add(r);
    return r.where();
  }

  template <class Payload>
  std::string emit(const std::string& topic_name, const std::string& subject,
                   const Payload& payload) {
    return feed(record(topic_name, envelope(subject, payload)));
  }

  std::string placed(const std::string& order, std::int64_t total) {
    return emit(topic::kOrderEvents, order,
                ord::OrderPlacedV1{.order_id = order,
                                   .buyer_id = kBuyer,
                                   .lines = {{.product_id = new_id(),
                                              .quantity = 1,
                                              .unit_price = total,
                                              .seller_id = new_id()}},
                                   .total = total,
                                   .currency = "EUR"});
  }
  std::string status(const std::string& order, const char* from, const char* to) {
    return emit(topic::kOrderEvents, order,
                ord::OrderStatusChangedV1{
                    .order_id = order, .buyer_id = kBuyer, .status = to, .previous_status = from});
  }
  std::string confirmed(const std::string& order, std::int64_t total) {
    return emit(topic::kOrderEvents, order,
                ord::OrderConfirmedV1{
                    .order_id = order, .buyer_id = kBuyer, .total = total, .currency = "EUR"});
  }
  std::string rejected(const std::string& order) {
    return emit(
        topic::kOrderEvents, order,
        ord::OrderRejectedV1{.order_id = order, .buyer_id = kBuyer, .reason = "out_of_stock"});
  }
  std::string cancelled(const std::string& order, const char* reason) {
    return emit(topic::kOrderEvents, order,
                ord::OrderCancelledV1{.order_id = order, .buyer_id = kBuyer, .reason = reason});
  }
  std::string charged(const std::string& order, const std::string& payment, std::int64_t amount) {
    return emit(topic::kPaymentEvents, order,
                pay::PaymentChargedV1{
                    .order_id = order, .payment_id = payment, .amount = amount, .currency = "EUR"});
  }
  std::string refunded(const std::string& order, std::int64_t amount) {
    return emit(topic::kPaymentEvents, order,
                pay::PaymentRefundedV1{.order_id = order, .amount = amount, .currency = "EUR"});
  }
  std::string stock(const std::string& product, std::int64_t on_hand, std::int64_t available,
                    std::int64_t reserved, std::int64_t sold) {
    return emit(topic::kInventoryEvents, product,
                inv::StockLevelChangedV1{.product_id = product,
                                         .on_hand = on_hand,
                                         .available = available,
                                         .reserved = reserved,
                                         .sold = sold});
  }

  /// The saga's happy path up to AWAITING_PAYMENT.
  void awaiting_payment(const std::string& order, std::int64_t total) {
    placed(order, total);
    status(order, "PLACED", "AWAITING_STOCK");
    status(order, "AWAITING_STOCK", "AWAITING_PAYMENT");
  }
  /// The saga's happy path, charge included; answers where OrderConfirmed is.
  std::string confirm(const std::string& order, std::int64_t total) {
    awaiting_payment(order, total);
    charged(order, new_id(), total);
    status(order, "AWAITING_PAYMENT", "CONFIRMED");
    return confirmed(order, total);
  }

  AuditReport settled_report() const { return auditor.finish(clock.now() + kSettle * 2); }
};

}  // namespace

TEST_CASE_FIXTURE(Feed, "a clean saga, its payment and its stock pass") {
  const std::string order = new_id();
  const std::string product = new_id();
  stock(product, 10, 10, 0, 0);
  awaiting_payment(order, 2500);
  stock(product, 10, 8, 2, 0);
  charged(order, new_id(), 2500);
  status(order, "AWAITING_PAYMENT", "CONFIRMED");
  confirmed(order, 2500);
  stock(product, 10, 8, 0, 2);
  status(order, "CONFIRMED", "SHIPPED");
  status(order, "SHIPPED", "DELIVERED");

  const AuditReport report = settled_report();
  CHECK(report.ok());
  CHECK(report.events == 11);
  CHECK(report.duplicates == 0);
  CHECK(report.orders == 1);
  CHECK(report.products == 1);
  CHECK(report.pending == 0);
  CHECK(report.checked.at(invariant::kOneOutcome) == 1);
  CHECK(report.checked.at(invariant::kMoneyBalances) == 1);
  CHECK(report.checked.at(invariant::kStockConserved) == 1);
  CHECK(report.checked.at(invariant::kUniqueEventIds) == 11);
}

TEST_CASE_FIXTURE(Feed, "an unsettled order is pending inside the settle time, a violation after") {
  const std::string order = new_id();
  placed(order, 900);
  status(order, "PLACED", "AWAITING_STOCK");
  const std::string last = status(order, "AWAITING_STOCK", "AWAITING_PAYMENT");

  const AuditReport early = auditor.finish(clock.now() + kSettle - std::chrono::seconds{1});
  CHECK(early.ok());
  CHECK(early.pending == 1);
  CHECK(early.checked.at(invariant::kOneOutcome) == 0);

  const AuditReport late = auditor.finish(clock.now() + kSettle);
  CHECK(late.pending == 0);
  CHECK(late.checked.at(invariant::kOneOutcome) == 1);
  CHECK(late.checked.at(invariant::kMoneyBalances) == 0);
  REQUIRE(late.violations.size() == 1);
  const Violation& v = late.violations[0];
  CHECK(v.invariant == invariant::kOneOutcome);
  CHECK(v.subject == order);
  CHECK(v.detail.find("AWAITING_PAYMENT") != std::string::npos);
  CHECK(v.records == std::vector<std::string>{last});
}

TEST_CASE_FIXTURE(Feed,
                  "an order waiting for its buyer is pending until its payment window closes") {
  const std::string order = new_id();
  placed(order, 900);
  status(order, "PLACED", "AWAITING_STOCK");
  status(order, "AWAITING_STOCK", "AWAITING_PAYMENT");
  const auto due = clock.now() + std::chrono::hours{1};
  emit(topic::kOrderEvents, order,
       ord::OrderAwaitingPaymentV1{.order_id = order,
                                   .buyer_id = kBuyer,
                                   .total = 900,
                                   .currency = "EUR",
                                   .due_at = events::format_rfc3339(due),
                                   .attempts_used = 0,
                                   .attempts_left = 3,
                                   .reason = std::nullopt});
  // Past the settle time but inside the window: waiting, not stuck.
  const AuditReport waiting = auditor.finish(due - std::chrono::seconds{1});
  CHECK(waiting.ok());
  CHECK(waiting.pending == 1);
  // The window closed a settle time ago and the order is still open: stuck.
  const AuditReport stuck = auditor.finish(due + kSettle);
  REQUIRE(of(stuck, invariant::kOneOutcome).size() == 1);
}

TEST_CASE_FIXTURE(Feed, "a partly refunded kept order balances with its admin refunds") {
  const std::string order = new_id();
  const std::string refund = new_id();
  placed(order, 1000);
  status(order, "PLACED", "AWAITING_STOCK");
  status(order, "AWAITING_STOCK", "AWAITING_PAYMENT");
  const std::string payment = new_id();
  emit(topic::kPaymentEvents, order,
       pay::PaymentChargedV1{
           .order_id = order, .payment_id = payment, .amount = 1000, .currency = "EUR"});
  status(order, "AWAITING_PAYMENT", "CONFIRMED");
  confirmed(order, 1000);
  emit(topic::kPaymentEvents, order,
       pay::PaymentRefundedV1{.order_id = order,
                              .payment_id = payment,
                              .amount = 300,
                              .currency = "EUR",
                              .refunded_now = 300,
                              .refund_id = refund,
                              .reason = "dented"});
  // Money went back but no admin refund says so: it does not balance.
  const AuditReport unexplained = auditor.finish(clock.now() + kSettle);
  REQUIRE(of(unexplained, invariant::kMoneyBalances).size() == 1);
  emit(topic::kOrderEvents, order,
       ord::OrderRefundedV1{.order_id = order,
                            .buyer_id = kBuyer,
                            .refund_id = refund,
                            .amount = 300,
                            .refunded_total = 300,
                            .total = 1000,
                            .currency = "EUR",
                            .reason = "dented"});
  const AuditReport explained = auditor.finish(clock.now() + kSettle);
  CHECK(of(explained, invariant::kMoneyBalances).empty());
}

TEST_CASE_FIXTURE(Feed, "an order rejected at placement is an order with its outcome") {
  rejected(new_id());
  const AuditReport report = settled_report();
  CHECK(report.ok());
  CHECK(report.orders == 1);
  CHECK(report.checked.at(invariant::kOneOutcome) == 1);
  CHECK(report.checked.at(invariant::kMoneyBalances) == 1);
}

TEST_CASE_FIXTURE(Feed, "two outcomes the saga cannot join are named") {
  const std::string order = new_id();
  placed(order, 700);
  status(order, "PLACED", "AWAITING_STOCK");
  const std::string first = rejected(order);
  const std::string second = confirmed(order, 700);

  const auto found = of(settled_report(), invariant::kOneOutcome);
  REQUIRE(found.size() == 1);
  CHECK(found[0].subject == order);
  CHECK(found[0].detail.find("REJECTED, then CONFIRMED") != std::string::npos);
  CHECK(found[0].records == std::vector<std::string>{first, second});
}

TEST_CASE_FIXTURE(Feed, "cancelled after confirmation then confirmed again is named") {
  const std::string order = new_id();
  confirm(order, 700);
  const std::string cancel = cancelled(order, "refunded");
  const std::string again = confirmed(order, 700);

  const auto found = of(settled_report(), invariant::kOneOutcome);
  REQUIRE(found.size() == 1);
  CHECK(found[0].records == std::vector<std::string>{cancel, again});
}

TEST_CASE_FIXTURE(Feed, "a confirmed order refunded and cancelled balances") {
  const std::string order = new_id();
  confirm(order, 2500);
  status(order, "CONFIRMED", "COMPENSATING");
  // Each PaymentRefunded carries the order's refunded total so far, not one refund's amount.
  refunded(order, 1000);
  refunded(order, 2500);
  status(order, "COMPENSATING", "CANCELLED");
  cancelled(order, "refunded");

  const AuditReport report = settled_report();
  CHECK(report.ok());
  CHECK(report.checked.at(invariant::kOneOutcome) == 1);
  CHECK(report.checked.at(invariant::kMoneyBalances) == 1);
}

TEST_CASE_FIXTURE(Feed, "payments read before their order's events still balance") {
  const std::string order = new_id();
  charged(order, new_id(), 1200);
  refunded(order, 1200);
  placed(order, 1200);
  status(order, "PLACED", "AWAITING_STOCK");
  status(order, "AWAITING_STOCK", "AWAITING_PAYMENT");
  status(order, "AWAITING_PAYMENT", "COMPENSATING");
  status(order, "COMPENSATING", "CANCELLED");
  cancelled(order, "timeout");
  CHECK(settled_report().ok());
}

TEST_CASE_FIXTURE(Feed, "money that does not balance names the charges, refund and status") {
  const std::string order = new_id();

  SUBCASE("confirmed without a charge") {
    awaiting_payment(order, 1500);
    status(order, "AWAITING_PAYMENT", "CONFIRMED");
    const std::string last = confirmed(order, 1500);
    const auto found = of(settled_report(), invariant::kMoneyBalances);
    REQUIRE(found.size() == 1);
    CHECK(found[0].subject == order);
    CHECK(found[0].detail == "charged 0 - refunded 0 = 0, expected 1500 as CONFIRMED");
    CHECK(found[0].records == std::vector<std::string>{last});
  }
  SUBCASE("charged twice under two payment ids") {
    awaiting_payment(order, 1500);
    const std::string one = charged(order, new_id(), 1500);
    const std::string two = charged(order, new_id(), 1500);
    status(order, "AWAITING_PAYMENT", "CONFIRMED");
    const std::string last = confirmed(order, 1500);
    const auto found = of(settled_report(), invariant::kMoneyBalances);
    REQUIRE(found.size() == 1);
    CHECK(found[0].detail == "charged 3000 - refunded 0 = 3000, expected 1500 as CONFIRMED");
    CHECK(found[0].records == std::vector<std::string>{one, two, last});
  }
  SUBCASE("a repeated payment id is one charge") {
    awaiting_payment(order, 1500);
    const std::string payment = new_id();
    charged(order, payment, 1500);
    charged(order, payment, 1500);
    status(order, "AWAITING_PAYMENT", "CONFIRMED");
    confirmed(order, 1500);
    CHECK(settled_report().ok());
  }
  SUBCASE("a late charge after a timeout that was never refunded") {
    awaiting_payment(order, 1500);
    status(order, "AWAITING_PAYMENT", "COMPENSATING");
    status(order, "COMPENSATING", "CANCELLED");
    const std::string last = cancelled(order, "timeout");
    const std::string late = charged(order, new_id(), 1500);
    const AuditReport report = settled_report();
    const auto found = of(report, invariant::kMoneyBalances);
    REQUIRE(found.size() == 1);
    CHECK(found[0].detail == "charged 1500 - refunded 0 = 1500, expected 0 as CANCELLED");
    CHECK(found[0].records == std::vector<std::string>{late, last});
    CHECK(of(report, invariant::kOneOutcome).empty());
  }
  SUBCASE("a refund short of the charge") {
    confirm(order, 1500);
    status(order, "CONFIRMED", "COMPENSATING");
    const std::string refund = refunded(order, 500);
    status(order, "COMPENSATING", "CANCELLED");
    const std::string last = cancelled(order, "refunded");
    const auto found = of(settled_report(), invariant::kMoneyBalances);
    REQUIRE(found.size() == 1);
    CHECK(found[0].detail == "charged 1500 - refunded 500 = 1000, expected 0 as CANCELLED");
    REQUIRE(found[0].records.size() == 3);
    CHECK(found[0].records[1] == refund);
    CHECK(found[0].records[2] == last);
  }
  SUBCASE("not judged while the order may still be compensated") {
    awaiting_payment(order, 1500);
    status(order, "AWAITING_PAYMENT", "COMPENSATING");
    status(order, "COMPENSATING", "CANCELLED");
    cancelled(order, "timeout");
    charged(order, new_id(), 1500);
    const AuditReport report = auditor.finish(clock.now() + std::chrono::seconds{10});
    CHECK(report.ok());
    CHECK(report.pending == 0);
    CHECK(report.checked.at(invariant::kOneOutcome) == 1);
    CHECK(report.checked.at(invariant::kMoneyBalances) == 0);
  }
}

TEST_CASE_FIXTURE(Feed, "stock levels that do not add up are named") {
  const std::string leaky = new_id();
  const std::string negative = new_id();
  const std::string fine = new_id();
  const std::string first = stock(leaky, 10, 5, 3, 1);
  stock(leaky, 10, 6, 3, 1);
  const std::string last = stock(leaky, 10, 5, 5, 1);
  const std::string below = stock(negative, 5, -1, 6, 0);
  stock(fine, 4, 1, 2, 1);

  const AuditReport report = settled_report();
  CHECK(report.products == 3);
  CHECK(report.checked.at(invariant::kStockConserved) == 3);
  const auto found = of(report, invariant::kStockConserved);
  REQUIRE(found.size() == 2);
  const auto& leak = found[0].subject == leaky ? found[0] : found[1];
  const auto& minus = found[0].subject == leaky ? found[1] : found[0];
  CHECK(leak.detail.starts_with("on_hand 10 != available 5 + reserved 3 + sold 1"));
  CHECK(leak.detail.find("2 of its stock levels") != std::string::npos);
  CHECK(leak.records == std::vector<std::string>{first, last});
  CHECK(minus.subject == negative);
  CHECK(minus.detail == "available is -1, below 0");
  CHECK(minus.records == std::vector<std::string>{below});
}

TEST_CASE_FIXTURE(Feed, "a repeated delivery is counted, a reused id with other content named") {
  const std::string product = new_id();
  const events::Envelope e = envelope(
      product, inv::StockLevelChangedV1{.product_id = product, .on_hand = 3, .available = 3});
  const std::string original = feed(record(topic::kInventoryEvents, e));
  feed(record(topic::kInventoryEvents, e));

  SUBCASE("the same content twice") {
    const AuditReport report = settled_report();
    CHECK(report.ok());
    CHECK(report.events == 2);
    CHECK(report.duplicates == 1);
    CHECK(report.checked.at(invariant::kUniqueEventIds) == 1);
  }
  SUBCASE("the same content serialised in another key order") {
    events::Envelope reordered = e;
    boost::json::object members;
    const auto& original_members = e.data.as_object();
    for (auto it = original_members.end(); it != original_members.begin();) {
      --it;
      members.emplace(it->key(), it->value());
    }
    reordered.data = std::move(members);
    REQUIRE(events::encode_payload(reordered) != events::encode_payload(e));
    feed(record(topic::kInventoryEvents, reordered));
    const AuditReport report = settled_report();
    CHECK(report.ok());
    CHECK(report.duplicates == 2);
  }
  SUBCASE("another payload") {
    events::Envelope changed = e;
    changed.data.as_object()["on_hand"] = 4;
    changed.data.as_object()["available"] = 4;
    const std::string other = feed(record(topic::kInventoryEvents, changed));
    const AuditReport report = settled_report();
    REQUIRE(report.violations.size() == 1);
    const Violation& v = report.violations[0];
    CHECK(v.invariant == invariant::kUniqueEventIds);
    CHECK(v.subject == e.id);
    CHECK(v.detail.find("different payload") != std::string::npos);
    CHECK(v.records == std::vector<std::string>{original, other});
    CHECK(report.duplicates == 1);
  }
  SUBCASE("another type") {
    events::Envelope changed = e;
    changed.type = "bazaar.inventory.StockReleased.v1";
    const std::string other = feed(record(topic::kInventoryEvents, changed));
    const auto found = of(settled_report(), invariant::kUniqueEventIds);
    REQUIRE(found.size() == 1);
    CHECK(found[0].detail ==
          "type bazaar.inventory.StockLevelChanged.v1, then bazaar.inventory.StockReleased.v1");
    CHECK(found[0].records == std::vector<std::string>{original, other});
  }
}

TEST_CASE_FIXTURE(Feed, "a repeat delivered late changes no order") {
  const std::string order = new_id();
  placed(order, 800);
  status(order, "PLACED", "AWAITING_STOCK");
  const events::Envelope waiting =
      envelope(order, ord::OrderStatusChangedV1{.order_id = order,
                                                .buyer_id = kBuyer,
                                                .status = "AWAITING_PAYMENT",
                                                .previous_status = "AWAITING_STOCK"});
  feed(record(topic::kOrderEvents, waiting));
  charged(order, new_id(), 800);
  status(order, "AWAITING_PAYMENT", "CONFIRMED");
  confirmed(order, 800);
  // The outbox relay published the row again after a crash.
  feed(record(topic::kOrderEvents, waiting));

  const AuditReport report = settled_report();
  CHECK(report.ok());
  CHECK(report.duplicates == 1);
}

TEST_CASE_FIXTURE(Feed, "no events, unknown types and dead-letter copies are ignored") {
  feed(make_record(topic::kOrderEvents, 0, 90, 0, "k", "not json", {}));
  const std::string product = new_id();
  events::Envelope unknown = envelope(product, inv::StockLevelChangedV1{.product_id = product});
  unknown.type = "bazaar.inventory.StockTeleported.v1";
  feed(record(topic::kInventoryEvents, unknown));
  const events::Envelope broken = envelope(
      product, inv::StockLevelChangedV1{.product_id = product, .on_hand = 1, .available = 7});
  feed(record(contracts::dead_letter_topic("analytics"), broken));

  const AuditReport report = settled_report();
  CHECK(report.ok());
  CHECK(report.events == 0);
  CHECK(report.products == 0);
}

TEST_CASE_FIXTURE(Feed, "an unreadable payload is named and the audit goes on") {
  const std::string product = new_id();
  boost::json::object no_sold = inv::StockLevelChangedV1{.product_id = product}.to_json();
  no_sold.erase("sold");
  const std::string missing =
      feed(record(topic::kInventoryEvents,
                  factory.make(inv::StockLevelChangedV1::kType, product, std::move(no_sold))));
  const std::string order = new_id();
  placed(order, 100);
  const std::string lost = status(order, "PLACED", "LOST");
  stock(product, 1, 1, 0, 0);

  const AuditReport report = settled_report();
  CHECK(report.products == 1);
  const auto found = of(report, invariant::kValidPayload);
  REQUIRE(found.size() == 2);
  const auto& a = found[0].records[0] == missing ? found[0] : found[1];
  const auto& b = found[0].records[0] == missing ? found[1] : found[0];
  CHECK(a.subject == product);
  CHECK(a.detail.find("sold") != std::string::npos);
  CHECK(b.subject == order);
  CHECK(b.records == std::vector<std::string>{lost});
  CHECK(b.detail.find("LOST") != std::string::npos);
}

TEST_CASE_FIXTURE(Feed, "a stream of 200000 stock levels is audited") {
  constexpr int kEvents = 200'000;
  constexpr int kProducts = 1'000;
  std::vector<std::string> products;
  for (int i = 0; i < kProducts; ++i) products.push_back(new_id());
  std::string broken;
  for (int i = 0; i < kEvents; ++i) {
    const std::int64_t sold = i / kProducts;
    const std::int64_t reserved = i % 7;
    const std::int64_t available = 1'000 - sold - reserved - (i == 123'456 ? 1 : 0);
    const std::string at =
        stock(products[static_cast<std::size_t>(i % kProducts)], 1'000, available, reserved, sold);
    if (i == 123'456) broken = at;
  }

  const AuditReport report = settled_report();
  CHECK(report.events == kEvents);
  CHECK(report.products == kProducts);
  CHECK(report.checked.at(invariant::kUniqueEventIds) == kEvents);
  REQUIRE(report.violations.size() == 1);
  CHECK(report.violations[0].invariant == invariant::kStockConserved);
  CHECK(report.violations[0].records == std::vector<std::string>{broken});
}
