// The order handler's OrderBook against the real PostgreSQL: a batch of saga records, read and
// locked once and written back once, leaves the orders, steps and events that one transaction
// per record leaves.
#include <doctest/doctest.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <functional>
#include <map>
#include <string>
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
#include "order_handler.hpp"
#include "saga_store.hpp"

using namespace bazaar;

namespace {

// The order tables live in a schema of their own: other services' tests share the database and
// name their tables alike (analytics has `orders` too).
constexpr const char* kSchema = "order_book_test";

void use_schema(events::Database& db) {
  db.exec_script(std::string("SET search_path TO ") + kSchema);
}

struct Fixture {
  Fixture()
      : url(tests::required_env("BAZAAR_TEST_DB")),
        db(url),
        other_db(url),
        ids(clock, events::system_random()),
        factory("order-test", clock, ids, events::system_random()),
        schemas(BAZAAR_SCHEMAS_DIR),
        store({}, factory, clock),
        sql(db.session()) {
    db.exec_script(std::string("DROP SCHEMA IF EXISTS ") + kSchema + " CASCADE; CREATE SCHEMA " +
                   kSchema);
    use_schema(db);
    use_schema(other_db);
    events::migrate(db, "platform", events::platform_migrations());
    events::migrate(db, "order", events::load_migrations(BAZAAR_ORDER_MIGRATIONS_DIR));
    for (std::string* product : {&lamp, &vase}) {
      *product = ids.next().str();
      sql << "INSERT INTO catalog_prices (product_id, seller_id, price, currency) "
             "VALUES (CAST(:p AS uuid), CAST(:s AS uuid), 250, 'EUR')",
          soci::use(*product, "p"), soci::use(seller, "s");
    }
  }
  ~Fixture() {
    try {
      db.exec_script(std::string("DROP SCHEMA IF EXISTS ") + kSchema + " CASCADE");
    } catch (...) {  // NOLINT(bugprone-empty-catch): a leftover schema is dropped next time
    }
  }

  events::Envelope record(std::string type, boost::json::object data) const {
    return tests::order_event(factory, std::move(type), std::move(data));
  }

  // The records of a few sagas, interleaved as one poll may bring them: two placements, their
  // stock answers, a cancellation, a charge, a placement repeated under another event id, and
  // an answer about an order nobody placed.
  std::vector<events::Envelope> records(const std::vector<std::string>& order) {
    namespace o = contracts::order;
    namespace inv = contracts::inventory;
    namespace pay = contracts::payment;
    const boost::json::array two_lines{{{"product_id", lamp}, {"quantity", 2}},
                                       {{"product_id", vase}, {"quantity", 1}}};
    const boost::json::array one_line{{{"product_id", vase}, {"quantity", 3}}};
    const boost::json::array reserved{{{"product_id", lamp}, {"quantity", 2}}};
    const std::string expires = "2030-01-01T00:00:00Z";
    return {
        record(o::PlaceOrderV1::kType, {{"order_id", order[0]},
                                        {"buyer_id", buyer},
                                        {"lines", two_lines},
                                        {"payment_token", "tok_visa"}}),
        record(o::PlaceOrderV1::kType,
               {{"order_id", order[1]}, {"buyer_id", buyer}, {"lines", one_line}}),
        record(inv::StockReservedV1::kType,
               {{"order_id", order[0]}, {"lines", reserved}, {"expires_at", expires}}),
        record(inv::StockReservedV1::kType,
               {{"order_id", order[1]}, {"lines", reserved}, {"expires_at", expires}}),
        record(o::CancelOrderV1::kType,
               {{"order_id", order[1]}, {"actor_id", buyer}, {"actor_role", "buyer"}}),
        record(pay::PaymentChargedV1::kType, {{"order_id", order[0]},
                                              {"payment_id", ids.next().str()},
                                              {"amount", 750},
                                              {"currency", "EUR"},
                                              {"attempt", 1}}),
        record(o::PlaceOrderV1::kType,
               {{"order_id", order[0]}, {"buyer_id", buyer}, {"lines", one_line}}),
        record(inv::StockReservedV1::kType,
               {{"order_id", order[2]}, {"lines", reserved}, {"expires_at", expires}}),
    };
  }

  // Everything the records left about `order_id`, without its ids and times: the row, its
  // lines, its steps in order, and the events it caused in outbox order.
  std::vector<std::string> trace(const std::string& order_id) {
    std::vector<std::string> out;
    soci::rowset<soci::row> rows = (sql.prepare << R"sql(
SELECT concat_ws(' ', 'order', status, reason, total, currency, payment_token, stock_held, charged,
                 awaiting_release, awaiting_refund, has_token, charging, attempts, max_attempts,
                 deadline_at IS NOT NULL, payment_due_at IS NOT NULL, created_at <= updated_at)
FROM orders WHERE order_id = CAST(:id AS uuid)
UNION ALL
SELECT * FROM (SELECT concat_ws(' ', 'line', line_no, quantity, unit_price) FROM order_lines
               WHERE order_id = CAST(:id AS uuid) ORDER BY line_no) AS l
UNION ALL
SELECT * FROM (SELECT concat_ws(' ', 'step', trigger, from_status, to_status, commands, note)
               FROM saga_steps WHERE order_id = CAST(:id AS uuid) ORDER BY step_id) AS s
UNION ALL
SELECT * FROM (SELECT concat_ws(' ', 'event', aggregatetype, type) FROM outbox
               WHERE aggregateid = :id ORDER BY seq) AS e)sql",
                                    soci::use(order_id, "id"));
    for (const auto& row : rows) out.push_back(row.get<std::string>(0));
    return out;
  }

  tests::HandlerBench bench() { return {sql, schemas, factory, clock}; }

  std::string url;
  events::Database db;
  events::Database other_db;
  events::SystemClock clock;
  events::UuidV7Generator ids;
  events::EnvelopeFactory factory;
  events::SchemaRegistry schemas;
  order::SagaStore store;
  soci::session& sql;
  std::string lamp, vase;
  std::string buyer = ids.next().str();
  std::string seller = ids.next().str();
};

// Whether another transaction could lock the order right now.
bool free_to_lock(soci::session& other, const std::string& order_id) {
  try {
    soci::transaction tx(other);
    other << "SELECT 1 FROM orders WHERE order_id = CAST(:id AS uuid) FOR UPDATE NOWAIT",
        soci::use(order_id, "id");
    tx.rollback();
    return true;
  } catch (const soci::postgresql_soci_error& e) {
    REQUIRE(e.sqlstate() == std::string("55P03"));  // lock_not_available
    return false;
  }
}

}  // namespace

TEST_CASE_FIXTURE(Fixture,
                  "a batch of saga records leaves what one transaction per record leaves") {
  order::OrderHandler handler(store, std::chrono::seconds{30}, 3);
  const std::vector<std::string> alone{ids.next().str(), ids.next().str(), ids.next().str()};
  const std::vector<std::string> batched{ids.next().str(), ids.next().str(), ids.next().str()};
  tests::apply_one_by_one(handler, bench(), records(alone));
  tests::apply_together(handler, bench(), records(batched));
  for (std::size_t i = 0; i < alone.size(); ++i) {
    CAPTURE(i);
    CHECK(trace(batched[i]) == trace(alone[i]));
  }
  // Not vacuous: the first saga went as far as its charge (one step per record, the repeated
  // placement none), the second waited for its buyer's payment and was cancelled.
  const auto first = trace(batched[0]);
  REQUIRE(first.size() == 13);
  CHECK(first[0] == "order AWAITING_PAYMENT  750 EUR tok_visa t t f f t f 1 3 t f t");
  CHECK(first[6] ==
        "step bazaar.payment.PaymentCharged.v1 AWAITING_PAYMENT AWAITING_PAYMENT "
        "CommitReservation payment charged; committing the reservation");
  CHECK(trace(batched[1]).front() == "order COMPENSATING cancelled 750 EUR  t f t f f f 0 3 t t t");
  CHECK(trace(batched[2]).back() == "event inventory.commands bazaar.inventory.ReleaseStock.v1");
}

TEST_CASE_FIXTURE(Fixture, "a batch locks every order it names before its first record") {
  order::OrderHandler handler(store, std::chrono::seconds{30}, 3);
  const std::vector<std::string> first{ids.next().str(), ids.next().str(), ids.next().str()};
  const auto placements = records(first);
  tests::apply_one_by_one(handler, bench(), {placements[0], placements[1]});
  const std::vector<std::string> later{first[0], first[1], ids.next().str()};
  bool locked_first = false, locked_second = false;
  tests::apply_together(handler, bench(), records(later), [&] {
    locked_first = !free_to_lock(other_db.session(), first[0]);
    locked_second = !free_to_lock(other_db.session(), first[1]);
  });
  CHECK(locked_first);
  CHECK(locked_second);
  CHECK(free_to_lock(other_db.session(), first[0]));  // the commit let them go
}
