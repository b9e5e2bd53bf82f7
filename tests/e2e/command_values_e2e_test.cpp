// Commands produced straight to the commands topics (as operators' and analysts' tools can)
// holding values no column of ours can hold: a NUL or another control character in a string,
// a number beyond 64-bit integers, a stock level or order total that would overflow. Each
// service refuses them by one rule with its rejection event and changes nothing; the saga
// steps that only the order service sends are dead-lettered once, and nothing is retried.
#include <doctest/doctest.h>
#include <librdkafka/rdkafkacpp.h>
#include <soci/soci.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <limits>

#include "events/kafka_client.hpp"
#include "system.hpp"

using namespace bazaar;
using namespace bazaar::e2e;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

constexpr std::uint64_t kBeyondInt64 =
    static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) + 1;

// A string holding `c` between two letters.
json::string with(char c) {
  return json::string(std::string("a") + c + "b");
}

// Reads topics from their beginning while a test case runs and keeps every record.
class Watch {
 public:
  explicit Watch(const std::vector<std::string>& topics) {
    auto conf =
        events::make_kafka_conf({{"bootstrap.servers", tests::required_env("BAZAAR_KAFKA_BROKERS")},
                                 {"group.id", tests::unique_name("command-values")},
                                 {"enable.auto.commit", "false"},
                                 {"auto.offset.reset", "earliest"},
                                 {"topic.metadata.refresh.interval.ms", "1000"}});
    std::string err;
    consumer_.reset(RdKafka::KafkaConsumer::create(conf.get(), err));
    REQUIRE_MESSAGE(consumer_, err);
    REQUIRE(consumer_->subscribe(topics) == RdKafka::ERR_NO_ERROR);
  }
  ~Watch() { consumer_->close(); }
  Watch(const Watch&) = delete;
  Watch& operator=(const Watch&) = delete;

  /// Records of `topic` whose header `name` is `value`, after reading what has arrived.
  std::vector<tests::ConsumedRecord> with_header(const std::string& topic, const std::string& name,
                                                 const std::string& value) {
    drain();
    std::vector<tests::ConsumedRecord> out;
    for (const auto& [t, r] : records_) {
      if (t == topic && r.header(name) == value) out.push_back(r);
    }
    return out;
  }
  /// What `command` caused on `topic`.
  std::vector<tests::ConsumedRecord> caused(const std::string& topic,
                                            const events::Envelope& command) {
    return with_header(topic, "ce_causationid", command.id);
  }
  /// The dead letters of `command` in `dlq.<group>`.
  std::vector<tests::ConsumedRecord> dead_letters(const std::string& group,
                                                  const events::Envelope& command) {
    return with_header("dlq." + group, "ce_id", command.id);
  }

 private:
  void drain() {
    for (;;) {
      std::unique_ptr<RdKafka::Message> m(consumer_->consume(200));
      if (m->err() == RdKafka::ERR__TIMED_OUT || m->err() == RdKafka::ERR__PARTITION_EOF) return;
      if (m->err() != RdKafka::ERR_NO_ERROR) continue;
      tests::ConsumedRecord r;
      r.key = m->key() != nullptr ? *m->key() : std::string{};
      r.value.assign(static_cast<const char*>(m->payload()), m->len());
      if (const RdKafka::Headers* h = m->headers()) {
        for (const auto& header : h->get_all()) {
          r.headers.emplace_back(header.key(), std::string(static_cast<const char*>(header.value()),
                                                           header.value_size()));
        }
      }
      records_.emplace_back(m->topic_name(), std::move(r));
    }
  }

  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  std::vector<std::pair<std::string, tests::ConsumedRecord>> records_;
};

// The one event `command` caused on `topic`, waited for: its type and payload.
std::pair<std::string, json::object> answer(Watch& watch, const std::string& topic,
                                            const events::Envelope& command) {
  std::vector<tests::ConsumedRecord> found;
  REQUIRE_MESSAGE(
      tests::wait_until(60s, [&] { return !(found = watch.caused(topic, command)).empty(); }),
      "no answer on " << topic << " to " << command.type);
  REQUIRE(found.size() == 1);
  return {found.front().header("ce_type"), json::parse(found.front().value).as_object()};
}

// The payload of the event of `type` that `command` caused on `topic` (among others), waited for.
json::object answer_of_type(Watch& watch, const std::string& topic, const events::Envelope& command,
                            const std::string& type) {
  json::object payload;
  REQUIRE_MESSAGE(tests::wait_until(60s,
                                    [&] {
                                      for (const auto& r : watch.caused(topic, command)) {
                                        if (r.header("ce_type") != type) continue;
                                        payload = json::parse(r.value).as_object();
                                        return true;
                                      }
                                      return false;
                                    }),
                  "no " << type << " on " << topic << " for " << command.type);
  return payload;
}

std::string text(const json::object& o, const char* key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string{};
}

long long count(soci::session& sql, const std::string& query, const std::string& id) {
  long long n = 0;
  std::string bound = id;
  sql << query, soci::use(bound), soci::into(n);
  return n;
}

json::object product_created(const std::string& product, const std::string& seller, long long price,
                             long long stock) {
  return {
      {"product_id", product},  {"seller_id", seller},    {"name", "Teapot"},
      {"description", "Round"}, {"price", price},         {"currency", "EUR"},
      {"category", "kitchen"},  {"initial_stock", stock}, {"created_at", "2026-11-30T10:00:00Z"}};
}

}  // namespace

TEST_CASE(
    "catalog commands holding values no column holds are refused with ProductCommandRejected") {
  System system({}, {"catalog"});
  Bus bus;
  Watch watch({"catalog.events", "dlq.catalog"});
  const std::string seller = bus.new_id();
  const auto create = [&](const std::string& id, json::object changes) {
    json::object p{{"product_id", id},      {"seller_id", seller}, {"name", "Teapot"},
                   {"description", "Blue"}, {"price", 1250},       {"currency", "EUR"},
                   {"category", "kitchen"}, {"initial_stock", 3}};
    for (auto& [k, v] : changes) p[k] = v;
    return bus.send("catalog.commands", "bazaar.catalog.CreateProduct.v1", id, std::move(p));
  };

  struct Case {
    const char* what;
    json::object changes;
    const char* field;
  };
  const std::vector<Case> refused{
      {"a NUL in the name", {{"name", with('\0')}}, "name"},
      {"a bell in the description", {{"description", with('\a')}}, "description"},
      {"an escape in the category", {{"category", with('\x1b')}}, "category"},
      {"DEL in the currency", {{"currency", with('\x7f')}}, "currency"},
      {"a NUL after a valid seller id", {{"seller_id", json::string(seller + '\0')}}, "seller_id"},
      {"a price beyond int64", {{"price", kBeyondInt64}}, "price"},
      {"a price beyond uint64", {{"price", 1e20}}, "price"},
      {"an unknown member holding a NUL", {{"note", with('\0')}}, "note"},
  };
  std::vector<std::pair<const Case*, events::Envelope>> sent;
  for (const auto& c : refused) {
    const std::string id = bus.new_id();
    sent.emplace_back(&c, create(id, c.changes));
  }
  // Free text keeps its tabs and line breaks.
  const std::string fine = bus.new_id();
  const auto accepted = create(fine, {{"description", "line one\nline two\tand a tab\r\n"}});

  for (const auto& [c, command] : sent) {
    CAPTURE(c->what);
    const auto [type, payload] = answer(watch, "catalog.events", command);
    CHECK(type == "bazaar.catalog.ProductCommandRejected.v1");
    CHECK(text(payload, "product_id") == command.subject);
    CHECK(text(payload, "command") == "bazaar.catalog.CreateProduct.v1");
    CHECK(text(payload, "reason") == "invalid");
    CHECK(text(payload, "detail").starts_with(std::string(c->field) + " "));
    CHECK(count(system.db("catalog"),
                "SELECT count(*) FROM products WHERE product_id = CAST(:id AS uuid)",
                command.subject) == 0);
    CHECK(watch.dead_letters("catalog", command).empty());
  }
  answer_of_type(watch, "catalog.events", accepted, "bazaar.catalog.ProductCreated.v1");

  // Changes to a listed product: refused, and the product stays as it was.
  const auto update = [&](json::object changes) {
    json::object p{{"product_id", fine}, {"actor_id", seller}, {"actor_role", "seller"}};
    for (auto& [k, v] : changes) p[k] = v;
    return bus.send("catalog.commands", "bazaar.catalog.UpdateProduct.v1", fine, std::move(p));
  };
  const auto bad_name = update({{"name", with('\0')}});
  const auto bad_price = update({{"price", kBeyondInt64}});
  const auto bad_actor = bus.send("catalog.commands", "bazaar.catalog.DeleteProduct.v1", fine,
                                  {{"product_id", fine},
                                   {"actor_id", json::string(seller + '\x01')},
                                   {"actor_role", "seller"}});
  for (const auto* command : {&bad_name, &bad_price, &bad_actor}) {
    const auto [type, payload] = answer(watch, "catalog.events", *command);
    CHECK(type == "bazaar.catalog.ProductCommandRejected.v1");
    CHECK(text(payload, "command") == command->type);
    CHECK(text(payload, "reason") == "invalid");
    CHECK(watch.dead_letters("catalog", *command).empty());
  }
  std::string name;
  std::string status;
  long long price = 0;
  std::string id = fine;
  system.db("catalog")
      << "SELECT name, price, status FROM products WHERE product_id = CAST(:id AS uuid)",
      soci::use(id), soci::into(name), soci::into(price), soci::into(status);
  CHECK(name == "Teapot");
  CHECK(price == 1250);
  CHECK(status == "ACTIVE");
}

TEST_CASE(
    "stock adjustments beyond what a stock level holds are refused with StockAdjustRejected") {
  System system({}, {"inventory"});
  Bus bus;
  Watch watch({"inventory.events", "dlq.inventory"});
  const std::string product = bus.new_id();
  const std::string seller = bus.new_id();
  bus.send("catalog.events", "bazaar.catalog.ProductCreated.v1", product,
           product_created(product, seller, 500, 5));
  const auto stock_of = [&] {
    return count(system.db("inventory"),
                 "SELECT available FROM stock WHERE product_id = CAST(:id AS uuid)", product);
  };
  REQUIRE(tests::wait_until(60s, [&] { return stock_of() == 5; }));

  const auto adjust = [&](json::object change) {
    json::object p{{"product_id", product}, {"actor_id", seller}, {"actor_role", "seller"}};
    for (auto& [k, v] : change) p[k] = v;
    return bus.send("inventory.commands", "bazaar.inventory.AdjustStock.v1", product, std::move(p));
  };
  struct Case {
    events::Envelope command;
    const char* reason;
    const char* field;
  };
  const std::vector<Case> refused{
      {adjust({{"delta", std::numeric_limits<std::int64_t>::max()}}), "out_of_range", "delta"},
      {adjust({{"available", kBeyondInt64}}), "invalid", "available"},
      {adjust({{"delta", -1e19}}), "invalid", "delta"},
      {adjust({{"delta", 1}, {"actor_id", json::string(seller + '\0')}}), "invalid", "actor_id"},
  };
  // The product's key is not held up by what was refused: a later adjustment applies.
  const auto later = adjust({{"delta", 2}});

  for (const auto& c : refused) {
    CAPTURE(c.field);
    const auto [type, payload] = answer(watch, "inventory.events", c.command);
    CHECK(type == "bazaar.inventory.StockAdjustRejected.v1");
    CHECK(text(payload, "product_id") == product);
    CHECK(text(payload, "reason") == c.reason);
    CHECK(text(payload, "detail").starts_with(std::string(c.field) + " "));
    CHECK(watch.dead_letters("inventory", c.command).empty());
  }
  const auto level =
      answer_of_type(watch, "inventory.events", later, "bazaar.inventory.StockLevelChanged.v1");
  CHECK(level.at("available").to_number<long long>() == 7);
  CHECK(stock_of() == 7);
}

TEST_CASE("saga steps holding values no column holds are dead-lettered once and hold nothing up") {
  System system({}, {"inventory", "payment"});
  Bus bus;
  Watch watch({"inventory.events", "payment.events", "dlq.inventory", "dlq.payment"});
  const std::string product = bus.new_id();
  bus.send("catalog.events", "bazaar.catalog.ProductCreated.v1", product,
           product_created(product, bus.new_id(), 500, 5));

  // Only the order service sends these, and it refuses such values where they come in: one
  // that holds them is a bug or a forgery. No answer is made up for it (a decline would tell a
  // buyer a card was refused that was never tried); it is dead-lettered once for an operator.
  const std::string order = bus.new_id();
  const std::vector<std::pair<events::Envelope, const char*>> poisoned{
      {bus.send("inventory.commands", "bazaar.inventory.ReserveStock.v1", order,
                {{"order_id", order},
                 {"lines", json::array{json::object{{"product_id", json::string(product + '\0')},
                                                    {"quantity", 1}}}}}),
       "lines/0/product_id"},
      {bus.send("inventory.commands", "bazaar.inventory.ReleaseStock.v1", order,
                {{"order_id", order}, {"reason", with('\0')}}),
       "reason"},
      {bus.send("payment.commands", "bazaar.payment.ChargePayment.v1", order,
                {{"order_id", order},
                 {"amount", 500},
                 {"currency", "EUR"},
                 {"payment_token", json::string(std::string("tok_ok") + '\0')}}),
       "payment_token"},
      {bus.send("payment.commands", "bazaar.payment.ChargePayment.v1", order,
                {{"order_id", order},
                 {"amount", kBeyondInt64},
                 {"currency", "EUR"},
                 {"payment_token", "tok_ok"}}),
       "amount"},
      {bus.send("payment.commands", "bazaar.payment.RefundPayment.v1", order,
                {{"order_id", order}, {"reason", with('\x02')}}),
       "reason"},
  };
  // The same order's next steps, well formed, go through on the same partitions.
  const auto reserve =
      bus.send("inventory.commands", "bazaar.inventory.ReserveStock.v1", order,
               {{"order_id", order},
                {"lines", json::array{json::object{{"product_id", product}, {"quantity", 2}}}}});
  const auto charge = bus.send(
      "payment.commands", "bazaar.payment.ChargePayment.v1", order,
      {{"order_id", order}, {"amount", 1000}, {"currency", "EUR"}, {"payment_token", "tok_ok"}});
  answer_of_type(watch, "inventory.events", reserve, "bazaar.inventory.StockReserved.v1");
  answer_of_type(watch, "payment.events", charge, "bazaar.payment.PaymentCharged.v1");

  for (const auto& [command, field] : poisoned) {
    CAPTURE(command.type);
    const std::string group =
        command.type.find(".payment.") != std::string::npos ? "payment" : "inventory";
    std::vector<tests::ConsumedRecord> letters;
    REQUIRE(tests::wait_until(
        30s, [&] { return !(letters = watch.dead_letters(group, command)).empty(); }));
    // Once: both services moved past it (their later records were applied above).
    CHECK(letters.size() == 1);
    CHECK(letters.front().header("dlq_reason") == "invalid_value");
    CHECK(letters.front().header("dlq_error").find(field) != std::string::npos);
    CHECK(watch.caused("inventory.events", command).empty());
    CHECK(watch.caused("payment.events", command).empty());
  }
  // What they asked never happened: the reservation and the charge are the well-formed ones.
  CHECK(count(system.db("payment"),
              "SELECT charged_amount FROM payments WHERE order_id = CAST(:id AS uuid)",
              order) == 1000);
  CHECK(count(system.db("inventory"),
              "SELECT reserved FROM stock WHERE product_id = CAST(:id AS uuid)", product) == 2);
}

TEST_CASE("order commands holding values no column holds are refused with OrderCommandRejected") {
  System system({{"order", {{"BAZAAR_ORDER_UNKNOWN_PRODUCT_GRACE_MS", "0"}}}}, {"order"});
  Bus bus;
  Watch watch({"order.events", "inventory.commands", "dlq.order"});
  const std::string product = bus.new_id();
  const std::string dear = bus.new_id();
  bus.send("catalog.events", "bazaar.catalog.ProductCreated.v1", product,
           product_created(product, bus.new_id(), 500, 5));
  // A price that fits, whose total for a few units does not.
  bus.send("catalog.events", "bazaar.catalog.ProductCreated.v1", dear,
           product_created(dear, bus.new_id(), std::int64_t{1} << 62, 5));
  const auto known = [&](const std::string& id) {
    return count(system.db("order"),
                 "SELECT count(*) FROM catalog_prices WHERE product_id = CAST(:id AS uuid)",
                 id) == 1;
  };
  REQUIRE(tests::wait_until(60s, [&] { return known(product) && known(dear); }));

  const std::string buyer = bus.new_id();
  const auto place = [&](const std::string& id, json::value quantity, json::value token,
                         const std::string& what = {}) {
    return bus.send(
        "order.commands", "bazaar.order.PlaceOrder.v1", id,
        {{"order_id", id},
         {"buyer_id", buyer},
         {"lines", json::array{json::object{{"product_id", what.empty() ? product : what},
                                            {"quantity", quantity}}}},
         {"payment_token", token}});
  };
  struct Case {
    events::Envelope command;
    const char* field;
  };
  const std::string placed = bus.new_id();
  const std::vector<Case> refused{
      {place(bus.new_id(), 1, json::string(std::string("tok_ok") + '\0')), "payment_token"},
      {place(bus.new_id(), 1, with('\x1f')), "payment_token"},
      {place(bus.new_id(), kBeyondInt64, "tok_ok"), "lines/0/quantity"},
      {bus.send("order.commands", "bazaar.order.CancelOrder.v1", placed,
                {{"order_id", placed},
                 {"actor_id", buyer},
                 {"actor_role", "buyer"},
                 {"reason", with('\0')}}),
       "reason"},
      {bus.send("order.commands", "bazaar.order.AdvanceOrderStatus.v1", placed,
                {{"order_id", placed},
                 {"status", "SHIPPED"},
                 {"actor_id", json::string(buyer + '\x1b')}}),
       "actor_id"},
  };
  for (const auto& c : refused) {
    CAPTURE(c.command.type);
    CAPTURE(c.field);
    const auto [type, payload] = answer(watch, "order.events", c.command);
    CHECK(type == "bazaar.order.OrderCommandRejected.v1");
    CHECK(text(payload, "order_id") == c.command.subject);
    CHECK(text(payload, "command") == c.command.type);
    CHECK(text(payload, "reason").starts_with("invalid: " + std::string(c.field) + " "));
    CHECK(watch.dead_letters("order", c.command).empty());
    CHECK(count(system.db("order"),
                "SELECT count(*) FROM orders WHERE order_id = CAST(:id AS uuid)",
                c.command.subject) == 0);
    CHECK(watch.caused("inventory.commands", c.command).empty());
  }

  // Quantity times price beyond what a total holds: the order is priced, and rejected.
  const auto too_dear = place(bus.new_id(), 4, "tok_ok", dear);
  const auto rejected =
      answer_of_type(watch, "order.events", too_dear, "bazaar.order.OrderRejected.v1");
  CHECK(text(rejected, "reason") == "total_too_large");
  CHECK(watch.dead_letters("order", too_dear).empty());

  // The order the refused cancel and advance named is placed normally afterwards.
  const auto fine = place(placed, 1, "tok_ok");
  answer_of_type(watch, "order.events", fine, "bazaar.order.OrderPlaced.v1");
}

TEST_CASE("an order naming a deleted product is rejected at once, holding nothing up behind it") {
  // A grace far longer than the wait below: only a product never heard of waits for it.
  System system({{"order", {{"BAZAAR_ORDER_UNKNOWN_PRODUCT_GRACE_MS", "120000"}}}}, {"order"});
  Bus bus;
  Watch watch({"order.events"});
  const std::string product = bus.new_id();
  const std::string seller = bus.new_id();
  bus.send("catalog.events", "bazaar.catalog.ProductCreated.v1", product,
           product_created(product, seller, 500, 5));
  bus.send("catalog.events", "bazaar.catalog.ProductDeleted.v1", product,
           {{"product_id", product}, {"seller_id", seller}});
  REQUIRE(tests::wait_until(60s, [&] {
    return count(system.db("order"),
                 "SELECT count(*) FROM catalog_prices WHERE deleted AND product_id = CAST(:id AS "
                 "uuid)",
                 product) == 1;
  }));
  const std::string order = bus.new_id();
  const auto placed =
      bus.send("order.commands", "bazaar.order.PlaceOrder.v1", order,
               {{"order_id", order},
                {"buyer_id", bus.new_id()},
                {"lines", json::array{json::object{{"product_id", product}, {"quantity", 1}}}},
                {"payment_token", "tok_ok"}});
  // answer_of_type waits 60 s, half the grace a retry would wait.
  const auto rejected =
      answer_of_type(watch, "order.events", placed, "bazaar.order.OrderRejected.v1");
  CHECK(text(rejected, "reason") == "unknown_product");

  // Beside a product never heard of, the deleted one still decides: no wait for the other.
  const std::string both = bus.new_id();
  const auto placed_both =
      bus.send("order.commands", "bazaar.order.PlaceOrder.v1", both,
               {{"order_id", both},
                {"buyer_id", bus.new_id()},
                {"lines", json::array{json::object{{"product_id", bus.new_id()}, {"quantity", 1}},
                                      json::object{{"product_id", product}, {"quantity", 1}}}},
                {"payment_token", "tok_ok"}});
  const auto rejected_both =
      answer_of_type(watch, "order.events", placed_both, "bazaar.order.OrderRejected.v1");
  CHECK(text(rejected_both, "reason") == "unknown_product");
}
