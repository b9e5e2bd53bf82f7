// ReservationBook against the real PostgreSQL: a batch of reservation commands, read and locked
// once and written back once, leaves the reservations, stock and events that one transaction
// per command leaves.
#include <doctest/doctest.h>
#include <soci/soci.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
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
#include "inventory_handler.hpp"

using namespace bazaar;

namespace {

struct Fixture {
  Fixture()
      : db(tests::required_env("BAZAAR_TEST_DB")),
        ids(clock, events::system_random()),
        factory("inventory-test", clock, ids, events::system_random()),
        schemas(BAZAAR_SCHEMAS_DIR),
        sql(db.session()) {
    events::migrate(db, "platform", events::platform_migrations());
    events::migrate(db, "inventory", events::load_migrations(BAZAAR_INVENTORY_MIGRATIONS_DIR));
  }

  // Two products with stock of their own for one run.
  std::vector<std::string> stocked_products() {
    std::vector<std::string> products{ids.next().str(), ids.next().str()};
    for (const auto& id : products) {
      sql << "INSERT INTO stock (product_id, on_hand, available) VALUES (CAST(:id AS uuid), 5, 5)",
          soci::use(id, "id");
    }
    return products;
  }

  events::Envelope record(std::string type, boost::json::object data) const {
    return tests::order_event(factory, std::move(type), std::move(data));
  }

  // The commands of a few sagas as one poll may bring them: a reservation and its commit and
  // a release after it, a reservation refused for lack of stock, a release before any
  // reservation and the reservation it then refuses, and a reservation released.
  std::vector<events::Envelope> records(const std::vector<std::string>& order,
                                        const std::vector<std::string>& product) {
    namespace inv = contracts::inventory;
    auto lines = [&](int first, int second) {
      boost::json::array out{{{"product_id", product[0]}, {"quantity", first}}};
      if (second > 0)
        out.push_back(boost::json::object{{"product_id", product[1]}, {"quantity", second}});
      return out;
    };
    return {
        record(inv::ReserveStockV1::kType, {{"order_id", order[0]}, {"lines", lines(2, 1)}}),
        record(inv::ReserveStockV1::kType, {{"order_id", order[1]}, {"lines", lines(9, 0)}}),
        record(inv::ReleaseStockV1::kType, {{"order_id", order[2]}, {"reason", "cancelled"}}),
        record(inv::ReserveStockV1::kType, {{"order_id", order[3]}, {"lines", lines(1, 1)}}),
        record(inv::CommitReservationV1::kType, {{"order_id", order[0]}}),
        record(inv::ReserveStockV1::kType, {{"order_id", order[2]}, {"lines", lines(1, 0)}}),
        record(inv::ReleaseStockV1::kType,
               {{"order_id", order[3]}, {"reason", "payment_declined"}}),
        record(inv::ReleaseStockV1::kType, {{"order_id", order[0]}, {"reason", "returned"}}),
        record(inv::ReserveStockV1::kType, {{"order_id", order[1]}, {"lines", lines(9, 0)}}),
    };
  }

  // What the commands left about an order, without its ids and times: the reservation, its
  // lines (by product, in the run's product order) and the events keyed by it, in order.
  std::vector<std::string> trace(const std::string& order_id,
                                 const std::vector<std::string>& product) {
    std::vector<std::string> out;
    soci::rowset<soci::row> rows = (sql.prepare << R"sql(
SELECT concat_ws(' ', 'reservation', status, expires_at IS NOT NULL, release_reason,
                 rejection IS NOT NULL)
FROM reservations WHERE order_id = CAST(:id AS uuid)
UNION ALL
SELECT * FROM (SELECT concat_ws(' ', 'line', CASE product_id WHEN CAST(:p0 AS uuid) THEN 0 ELSE 1 END,
                                quantity)
               FROM reservation_lines WHERE order_id = CAST(:id AS uuid) ORDER BY 1) AS l
UNION ALL
SELECT * FROM (SELECT concat_ws(' ', 'event', type,
                                payload->>'released', payload->>'reason') FROM outbox
               WHERE aggregateid = :id ORDER BY seq) AS e)sql",
                                    soci::use(order_id, "id"), soci::use(product[0], "p0"));
    for (const auto& row : rows) out.push_back(row.get<std::string>(0));
    return out;
  }

  std::vector<long long> levels(const std::vector<std::string>& product) {
    std::vector<long long> out;
    for (const auto& id : product) {
      long long on_hand = 0, available = 0, reserved = 0, sold = 0;
      sql << "SELECT on_hand, available, reserved, sold FROM stock "
             "WHERE product_id = CAST(:id AS uuid)",
          soci::use(id, "id"), soci::into(on_hand), soci::into(available), soci::into(reserved),
          soci::into(sold);
      out.insert(out.end(), {on_hand, available, reserved, sold});
    }
    return out;
  }

  tests::HandlerBench bench() { return {sql, schemas, factory, clock}; }

  events::Database db;
  events::SystemClock clock;
  events::UuidV7Generator ids;
  events::EnvelopeFactory factory;
  events::SchemaRegistry schemas;
  soci::session& sql;
};

}  // namespace

TEST_CASE_FIXTURE(
    Fixture, "a batch of reservation commands leaves what one transaction per command leaves") {
  inventory::InventoryHandler handler(std::chrono::seconds{60}, std::chrono::milliseconds{1000});
  const auto alone_products = stocked_products();
  const auto batched_products = stocked_products();
  const auto alone = tests::fresh_ids(ids, 4);
  const auto batched = tests::fresh_ids(ids, 4);
  tests::apply_one_by_one(handler, bench(), records(alone, alone_products));
  tests::apply_together(handler, bench(), records(batched, batched_products));
  for (std::size_t i = 0; i < alone.size(); ++i) {
    CAPTURE(i);
    CHECK(trace(batched[i], batched_products) == trace(alone[i], alone_products));
  }
  CHECK(levels(batched_products) == levels(alone_products));
  // Not vacuous: the first order was reserved, committed and restocked; the stock of both
  // products is back where it started, none of it held.
  const auto first = trace(batched[0], batched_products);
  REQUIRE_FALSE(first.empty());
  CHECK(first[0] == "reservation RELEASED t returned f");
  CHECK(trace(batched[1], batched_products)[0] == "reservation REJECTED f t");
  CHECK(trace(batched[2], batched_products)[0] == "reservation RELEASED f cancelled f");
  CHECK(levels(batched_products) == std::vector<long long>{5, 5, 0, 0, 5, 5, 0, 0});
}
