// StockBook against the real PostgreSQL: a transaction reads each stock row once, keeps what its
// records change, and writes every changed row once, when it is flushed.
#include <doctest/doctest.h>
#include <soci/soci.h>

#include <stdexcept>
#include <string>

#include "events/clock.hpp"
#include "events/db.hpp"
#include "events/migrations.hpp"
#include "events/uuid.hpp"
#include "harness.hpp"
#include "inventory_store.hpp"

using namespace bazaar;

namespace {

// The level another connection sees: committed rows only.
inventory::StockLevel committed_level(soci::session& other, const std::string& id) {
  inventory::StockLevel level;
  other << "SELECT on_hand, available, reserved, sold FROM stock "
           "WHERE product_id = CAST(:id AS uuid)",
      soci::use(id, "id"), soci::into(level.on_hand), soci::into(level.available),
      soci::into(level.reserved), soci::into(level.sold);
  return level;
}

// The level this transaction's own statements see.
long long own_available(soci::session& sql, const std::string& id) {
  long long available = -1;
  sql << "SELECT available FROM stock WHERE product_id = CAST(:id AS uuid)", soci::use(id, "id"),
      soci::into(available);
  return available;
}

}  // namespace

TEST_CASE("a stock book writes the rows a transaction changed once, when flushed") {
  const std::string url = tests::required_env("BAZAAR_TEST_DB");
  events::Database db(url);
  events::migrate(db, "inventory", events::load_migrations(BAZAAR_INVENTORY_MIGRATIONS_DIR));
  const events::SystemClock clock;
  events::UuidV7Generator ids(clock, events::system_random());
  const std::string lamp = ids.next().str();
  const std::string vase = ids.next().str();
  const std::string unknown = ids.next().str();
  soci::session& sql = db.session();
  for (const auto& id : {lamp, vase}) {
    sql << "INSERT INTO stock (product_id, on_hand, available) VALUES (CAST(:id AS uuid), 5, 5)",
        soci::use(id, "id");
  }
  events::Database other_db(url);
  soci::session& other = other_db.session();

  inventory::StockBook book;
  {
    soci::transaction tx(sql);
    const auto rows = book.lock(sql, {vase, lamp, unknown});
    CHECK(rows.size() == 2);  // an unknown product has no row
    CHECK_FALSE(rows.contains(unknown));

    // Two reservations of the lamp in one transaction: the second starts from the first.
    book.save(lamp, inventory::reserve(book.lock(sql, {lamp}).at(lamp).level, 2));
    const auto after_first = book.lock(sql, {lamp}).at(lamp).level;
    CHECK(after_first.available == 3);
    book.save(lamp, inventory::reserve(after_first, 1));
    CHECK(own_available(sql, lamp) == 5);  // nothing written before the flush

    SUBCASE("a level that is not conserved or a row never locked is refused") {
      inventory::StockLevel broken = after_first;
      broken.available += 1;
      CHECK_THROWS_AS(book.save(lamp, broken), std::logic_error);
      CHECK_THROWS_AS(book.save(unknown, inventory::StockLevel{}), std::logic_error);
    }
    SUBCASE("a deleted product reads as deleted for the rest of the transaction") {
      book.mark_deleted(vase);
      CHECK(book.lock(sql, {vase}).at(vase).deleted);
    }

    book.flush(sql);
    CHECK(own_available(sql, lamp) == 2);
    CHECK(own_available(sql, vase) == 5);  // read, never changed
    tx.commit();
  }
  const inventory::StockLevel lamp_level = committed_level(other, lamp);
  CHECK(lamp_level.on_hand == 5);
  CHECK(lamp_level.available == 2);
  CHECK(lamp_level.reserved == 3);
  CHECK(committed_level(other, vase).available == 5);

  // A new transaction reads the rows again: what the book held is gone.
  book.clear();
  sql << "UPDATE stock SET available = 4, reserved = 1 WHERE product_id = CAST(:id AS uuid)",
      soci::use(vase, "id");
  {
    soci::transaction tx(sql);
    CHECK(book.lock(sql, {vase}).at(vase).level.available == 4);
    book.flush(sql);  // nothing changed: nothing written
    tx.commit();
  }
  CHECK(committed_level(other, vase).available == 4);
  for (const auto& id : {lamp, vase}) {
    sql << "DELETE FROM stock WHERE product_id = CAST(:id AS uuid)", soci::use(id, "id");
  }
}
