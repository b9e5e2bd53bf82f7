// InventoryHandler::lock_ahead against the real PostgreSQL: a batch holds every lock its records
// will take (reservations, then stock, in ascending id) before the first record is applied.
#include <doctest/doctest.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include <string>
#include <vector>

#include "contracts/contracts.hpp"
#include "events/clock.hpp"
#include "events/db.hpp"
#include "events/envelope.hpp"
#include "events/migrations.hpp"
#include "events/uuid.hpp"
#include "harness.hpp"
#include "inventory_handler.hpp"

using namespace bazaar;

namespace {

events::Envelope envelope(std::string type, boost::json::object data) {
  events::Envelope e;
  e.type = std::move(type);
  e.data = std::move(data);
  return e;
}

// Whether another transaction could lock the row right now.
bool free_to_lock(soci::session& other, const std::string& table, const std::string& column,
                  const std::string& id) {
  try {
    soci::transaction tx(other);
    other << "SELECT 1 FROM " + table + " WHERE " + column +
                 " = CAST(:id AS uuid) FOR UPDATE NOWAIT",
        soci::use(id, "id");
    tx.rollback();
    return true;
  } catch (const soci::postgresql_soci_error& e) {
    REQUIRE(e.sqlstate() == std::string("55P03"));  // lock_not_available
    return false;
  }
}

}  // namespace

TEST_CASE("a batch locks its reservations and every stock row they touch before any record") {
  const std::string url = tests::required_env("BAZAAR_TEST_DB");
  events::Database db(url);
  events::migrate(db, "inventory", events::load_migrations(BAZAAR_INVENTORY_MIGRATIONS_DIR));
  const events::SystemClock clock;
  events::UuidV7Generator ids(clock, events::system_random());
  std::vector<std::string> p;
  for (int i = 0; i < 4; ++i) p.push_back(ids.next().str());
  const std::string held_order = ids.next().str();
  const std::string new_order = ids.next().str();
  soci::session& sql = db.session();
  for (const auto& id : p) {
    sql << "INSERT INTO stock (product_id, on_hand, available) VALUES (CAST(:id AS uuid), 5, 5)",
        soci::use(id, "id");
  }
  // An order holding the third product: its commit will touch that stock row.
  sql << "INSERT INTO reservations (order_id, status, expires_at) "
         "VALUES (CAST(:id AS uuid), 'ACTIVE', now() + interval '1 hour')",
      soci::use(held_order, "id");
  sql << "INSERT INTO reservation_lines (order_id, product_id, quantity) "
         "VALUES (CAST(:o AS uuid), CAST(:p AS uuid), 1)",
      soci::use(held_order, "o"), soci::use(p[2], "p");

  const std::vector<events::Envelope> batch{
      envelope(contracts::inventory::ReserveStockV1::kType,
               {{"order_id", new_order},
                {"lines", boost::json::array{{{"product_id", p[1]}, {"quantity", 1}},
                                             {{"product_id", p[0]}, {"quantity", 2}}}}}),
      envelope(contracts::inventory::CommitReservationV1::kType, {{"order_id", held_order}}),
      envelope(contracts::inventory::ReserveStockV1::kType,
               {{"order_id", "not-a-uuid"}, {"lines", "not lines"}})};
  std::vector<const events::Envelope*> records;
  for (const auto& e : batch) records.push_back(&e);

  inventory::InventoryHandler handler(std::chrono::seconds{60}, std::chrono::milliseconds{1000});
  events::Database other_db(url);
  soci::session& other = other_db.session();
  {
    soci::transaction tx(sql);
    handler.lock_ahead(sql, records);
    CHECK_FALSE(free_to_lock(other, "reservations", "order_id", held_order));
    CHECK_FALSE(free_to_lock(other, "stock", "product_id", p[0]));
    CHECK_FALSE(free_to_lock(other, "stock", "product_id", p[1]));
    CHECK_FALSE(free_to_lock(other, "stock", "product_id", p[2]));  // a line of held_order
    CHECK(free_to_lock(other, "stock", "product_id", p[3]));        // nobody's
    tx.rollback();
  }
  CHECK(free_to_lock(other, "stock", "product_id", p[0]));
  sql << "DELETE FROM reservation_lines WHERE order_id = CAST(:id AS uuid)",
      soci::use(held_order, "id");
  sql << "DELETE FROM reservations WHERE order_id = CAST(:id AS uuid)", soci::use(held_order, "id");
  for (const auto& id : p) {
    sql << "DELETE FROM stock WHERE product_id = CAST(:id AS uuid)", soci::use(id, "id");
  }
}
