// NotificationHandler against the real PostgreSQL: chat bindings come on identity.events and
// order outcomes on order.events, read side by side, so a binding may be handled after a
// notification made later than it, or come again late. The chat gets what was made while it
// was bound, by the times of the events, whatever the order they are handled in.
#include "notification_handler.hpp"

#include <doctest/doctest.h>
#include <soci/soci.h>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "contracts/contracts.hpp"
#include "events/clock.hpp"
#include "events/db.hpp"
#include "events/envelope.hpp"
#include "events/migrations.hpp"
#include "events/outbox.hpp"
#include "events/schema_registry.hpp"
#include "events/uuid.hpp"
#include "harness.hpp"

using namespace bazaar;
using namespace std::chrono_literals;

namespace {

// Other services' tests share the database and name their tables alike.
constexpr const char* kSchema = "notification_handler_test";

struct Fixture {
  Fixture()
      : db(tests::required_env("BAZAAR_TEST_DB")),
        ids(clock, events::system_random()),
        factory("identity-test", clock, ids, events::system_random()),
        schemas(BAZAAR_SCHEMAS_DIR),
        handler(clock, false, true),
        sql(db.session()) {
    db.exec_script(std::string("DROP SCHEMA IF EXISTS ") + kSchema + " CASCADE; CREATE SCHEMA " +
                   kSchema + "; SET search_path TO " + kSchema);
    events::migrate(db, "platform", events::platform_migrations());
    events::migrate(db, "notification",
                    events::load_migrations(BAZAAR_NOTIFICATION_MIGRATIONS_DIR));
    const auto made = tests::fresh_ids(ids, 4);
    buyer = made[0];
    seller = made[1];
    product = made[2];
  }
  ~Fixture() {
    try {
      db.exec_script(std::string("DROP SCHEMA IF EXISTS ") + kSchema + " CASCADE");
    } catch (...) {  // NOLINT(bugprone-empty-catch): a leftover schema is dropped next time
    }
  }

  // `buyer` bound `chat` (or unbound, when empty) at the clock's time now.
  events::Envelope binding(const std::string& chat) {
    boost::json::object data{{"user_id", buyer}};
    if (!chat.empty()) data["chat_id"] = chat;
    return factory.make(contracts::identity::UserChatBoundV1::kType, buyer, std::move(data));
  }

  // The order `order_id` of `buyer` confirmed, at the clock's time now.
  events::Envelope confirmed(const std::string& order_id) {
    return tests::order_event(factory, "bazaar.order.OrderConfirmed.v1",
                              {{"order_id", order_id},
                               {"buyer_id", buyer},
                               {"lines", boost::json::array{{{"product_id", product},
                                                             {"quantity", 1},
                                                             {"unit_price", 250},
                                                             {"seller_id", seller}}}},
                               {"total", 250},
                               {"currency", "EUR"}});
  }

  // A one-time sign-in code for `buyer`, at the clock's time now.
  events::Envelope code(const std::string& value) {
    return factory.make(contracts::identity::OtpRequestedV1::kType, buyer,
                        boost::json::object{{"user_id", buyer},
                                            {"code", value},
                                            {"expires_at", "2099-01-01T00:00:00Z"},
                                            {"purpose", "sign_in"}});
  }

  // How many chat messages wait for the buyer, and how many of them hold `text`.
  std::pair<long long, long long> pending_for_buyer(const std::string& text) {
    long long all = 0, holding = 0;
    sql << "SELECT count(*), count(*) FILTER (WHERE d.payload->>'text' LIKE '%' || :t || '%') "
           "FROM chat_deliveries d JOIN notifications n USING (notification_id) "
           "WHERE n.recipient_id = CAST(:b AS uuid) AND d.status = 'PENDING'",
        soci::use(text, "t"), soci::use(buyer, "b"), soci::into(all), soci::into(holding);
    return {all, holding};
  }

  // The chat a pending message about `order_id` to the buyer goes to, if one is queued.
  std::optional<std::string> queued_chat(const std::string& order_id) {
    std::string payload;
    soci::indicator found = soci::i_null;
    sql << "SELECT CAST(d.payload AS text) FROM chat_deliveries d JOIN notifications n "
           "USING (notification_id) WHERE n.order_id = CAST(:o AS uuid) "
           "AND n.recipient_id = CAST(:b AS uuid) AND d.status = 'PENDING'",
        soci::use(order_id, "o"), soci::use(buyer, "b"), soci::into(payload, found);
    if (!sql.got_data() || found != soci::i_ok) return std::nullopt;
    const auto request = boost::json::parse(payload).as_object();
    CHECK(std::string(request.at("text").as_string()).starts_with("Order " + order_id));
    CHECK(std::string(request.at("text").as_string()).find("\nYour order ") != std::string::npos);
    return boost::json::serialize(request.at("chat_id"));
  }

  std::string bound_chat() {
    std::string chat;
    soci::indicator found = soci::i_null;
    sql << "SELECT chat_id FROM users WHERE user_id = CAST(:b AS uuid)", soci::use(buyer, "b"),
        soci::into(chat, found);
    return found == soci::i_ok ? chat : std::string{};
  }

  tests::HandlerBench bench() { return {sql, schemas, factory, clock}; }

  events::Database db;
  events::ManualClock clock;
  events::UuidV7Generator ids;
  events::EnvelopeFactory factory;
  events::SchemaRegistry schemas;
  notification::NotificationHandler handler;
  soci::session& sql;
  std::string buyer, seller, product;
};

}  // namespace

TEST_CASE_FIXTURE(Fixture, "a binding handled after a later order's notification still sends it") {
  const auto orders = tests::fresh_ids(ids, 2);
  const auto bound = binding("927789897");
  clock.advance(300ms);
  const auto later = confirmed(orders[0]);
  // One poll brought both, the order's record first.
  tests::apply_together(handler, bench(), {later, bound});
  CHECK(bound_chat() == "927789897");
  CHECK(queued_chat(orders[0]) == "927789897");
  // Handled in separate transactions, in that order, the same.
  clock.advance(1s);
  const auto rebound = binding("@shop_news");
  clock.advance(300ms);
  tests::apply_one_by_one(handler, bench(), {confirmed(orders[1]), rebound});
  CHECK(queued_chat(orders[1]) == "\"@shop_news\"");
}

TEST_CASE_FIXTURE(Fixture, "a notification made before the binding's time stays out of the chat") {
  const auto order = tests::fresh_ids(ids, 1).front();
  const auto before = confirmed(order);
  tests::apply_one_by_one(handler, bench(), {before});
  clock.advance(1s);
  tests::apply_one_by_one(handler, bench(), {binding("927789897")});
  CHECK(bound_chat() == "927789897");
  CHECK_FALSE(queued_chat(order).has_value());
}

TEST_CASE_FIXTURE(Fixture, "an unbinding handled late takes back what was queued since its time") {
  const auto orders = tests::fresh_ids(ids, 2);
  tests::apply_one_by_one(handler, bench(), {binding("927789897")});
  clock.advance(1s);
  tests::apply_one_by_one(handler, bench(), {confirmed(orders[0])});
  REQUIRE(queued_chat(orders[0]) == "927789897");
  clock.advance(1s);
  const auto unbound = binding("");
  clock.advance(300ms);
  tests::apply_together(handler, bench(), {confirmed(orders[1]), unbound});
  CHECK(bound_chat().empty());
  CHECK(queued_chat(orders[0]) == "927789897");  // made while bound
  CHECK_FALSE(queued_chat(orders[1]).has_value());
}

TEST_CASE_FIXTURE(Fixture, "an older binding arriving after a newer one changes nothing") {
  const auto order = tests::fresh_ids(ids, 1).front();
  const auto old_binding = binding("111");
  clock.advance(1s);
  const auto new_binding = binding("222");
  clock.advance(1s);
  tests::apply_one_by_one(handler, bench(), {new_binding, confirmed(order), old_binding});
  CHECK(bound_chat() == "222");
  CHECK(queued_chat(order) == "222");
}

TEST_CASE_FIXTURE(Fixture, "an unbinding handled late leaves a one-time code to its chat") {
  tests::apply_one_by_one(handler, bench(), {binding("927789897")});
  clock.advance(1s);
  const auto unbound = binding("");
  clock.advance(300ms);
  tests::apply_together(handler, bench(), {code("482913"), unbound});
  // The code went to no other sink: it stays with the chat it was queued for.
  CHECK(pending_for_buyer("482913") == std::pair<long long, long long>{1, 1});
}

TEST_CASE_FIXTURE(Fixture, "messages an old chat refused for good go to the chat bound since") {
  const auto order = tests::fresh_ids(ids, 1).front();
  tests::apply_one_by_one(handler, bench(), {binding("111")});
  clock.advance(1s);
  const auto rebound = binding("222");
  clock.advance(300ms);
  tests::apply_one_by_one(handler, bench(), {confirmed(order)});
  sql << "UPDATE chat_deliveries SET status = 'FAILED', attempts = 3, last_error = 'HTTP 403'";
  tests::apply_one_by_one(handler, bench(), {rebound});
  CHECK(queued_chat(order) == "222");
  long long attempts = -1;
  sql << "SELECT attempts FROM chat_deliveries", soci::into(attempts);
  CHECK(attempts == 0);
}

TEST_CASE_FIXTURE(Fixture, "a binding and a notification handled at once by two instances meet") {
  const auto order = tests::fresh_ids(ids, 1).front();
  const auto bound = binding("927789897");
  clock.advance(300ms);
  const auto later = confirmed(order);
  // One instance applies the binding and has not committed yet...
  soci::transaction tx(sql);
  events::OutboxWriter outbox(sql, schemas, events::OutboxWriter::Write::at_flush);
  events::HandlerContext ctx{bound, sql, outbox, factory, clock};
  handler.apply(ctx);
  // ...while the other applies the order's notification on its own connection.
  events::Database other_db(tests::required_env("BAZAAR_TEST_DB"));
  other_db.exec_script(std::string("SET search_path TO ") + kSchema);
  notification::NotificationHandler other(clock, false, true);
  std::thread instance([&] {
    tests::apply_one_by_one(other, {other_db.session(), schemas, factory, clock}, {later});
  });
  // It waits for the binding's transaction rather than read past it.
  const bool waits = tests::wait_until(10s, [&] {
    long long waiting = 0;
    sql << "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted",
        soci::into(waiting);
    return waiting > 0;
  });
  outbox.flush();
  tx.commit();
  instance.join();
  CHECK(waits);
  CHECK(queued_chat(order) == "927789897");
}
