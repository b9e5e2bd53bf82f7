// OrderHandler::lock_ahead against the real PostgreSQL: a batch reads and locks its orders before
// the first record is applied, and every record still decides from what the records before it
// did to its order.
#include <doctest/doctest.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include <string>
#include <vector>

#include "contracts/contracts.hpp"
#include "events/clock.hpp"
#include "events/db.hpp"
#include "events/envelope.hpp"
#include "events/handler.hpp"
#include "events/migrations.hpp"
#include "events/outbox.hpp"
#include "events/schema_registry.hpp"
#include "events/uuid.hpp"
#include "harness.hpp"
#include "order_handler.hpp"
#include "saga_store.hpp"

using namespace bazaar;

namespace {

struct Fixture {
  Fixture()
      : url(tests::required_env("BAZAAR_TEST_DB")),
        db(url),
        other_db(url),
        sql(db.session()),
        schemas(BAZAAR_SCHEMAS_DIR),
        ids(clock, events::system_random()),
        factory("order", clock, ids, events::system_random()),
        store({}, factory, clock),
        handler(store, std::chrono::milliseconds{0}, 3) {
    // The test database holds every service's tables side by side, and analytics has an
    // `orders` of its own: this service's go in a schema of their own.
    sql << "CREATE SCHEMA IF NOT EXISTS order_service";
    for (soci::session* s : {&sql, &other_db.session()}) *s << "SET search_path TO order_service";
    events::migrate(db, "platform", events::platform_migrations());
    events::migrate(db, "order", events::load_migrations(BAZAAR_ORDER_MIGRATIONS_DIR));
    sql << "INSERT INTO catalog_prices (product_id, seller_id, price, currency, deleted, "
           "updated_at) VALUES (CAST(:p AS uuid), CAST(:s AS uuid), 1250, 'EUR', false, now())",
        soci::use(product, "p"), soci::use(seller, "s");
  }

  events::Envelope place(const std::string& order_id) {
    const contracts::order::PlaceOrderV1 cmd{.order_id = order_id,
                                             .buyer_id = buyer,
                                             .lines = {{.product_id = product, .quantity = 2}},
                                             .payment_token = "tok_visa"};
    return factory.make(cmd.kType, order_id, cmd.to_json());
  }
  events::Envelope stock_reserved(const std::string& order_id) {
    return factory.make(contracts::inventory::StockReservedV1::kType, order_id,
                        boost::json::object{{"order_id", order_id}});
  }
  events::Envelope charged(const std::string& order_id) {
    return factory.make(contracts::payment::PaymentChargedV1::kType, order_id,
                        boost::json::object{{"order_id", order_id}, {"attempt", 1}});
  }

  // Applies `records` in one transaction, as the processor applies a batch; `before_apply` runs
  // once they are locked ahead, before the first is applied.
  template <typename Check>
  void apply_batch(const std::vector<events::Envelope>& records, Check before_apply) {
    soci::transaction tx(sql);
    events::OutboxWriter outbox(sql, schemas);
    handler.begin(sql);
    std::vector<const events::Envelope*> batch;
    for (const auto& e : records) batch.push_back(&e);
    handler.lock_ahead(sql, batch);
    before_apply();
    for (const auto& e : records) {
      events::HandlerContext ctx{e, sql, outbox, factory, clock};
      handler.apply(ctx);
    }
    handler.before_commit(sql);
    tx.commit();
  }
  void apply_batch(const std::vector<events::Envelope>& records) {
    apply_batch(records, [] {});
  }

  // Whether another transaction could lock the order right now.
  bool free_to_lock(const std::string& order_id) {
    soci::session& other = other_db.session();
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

  // The order's saga steps, oldest first: "FROM>TO commands: note" each, one per line.
  std::string steps(const std::string& order_id) {
    std::string out;
    sql << "SELECT COALESCE(string_agg(from_status || '>' || to_status || ' ' || commands || "
           "': ' || note, E'\\n' ORDER BY step_id), '') "
           "FROM saga_steps WHERE order_id = CAST(:id AS uuid)",
        soci::use(order_id, "id"), soci::into(out);
    return out;
  }

  std::string status(const std::string& order_id) {
    std::string s;
    sql << "SELECT status FROM orders WHERE order_id = CAST(:id AS uuid)",
        soci::use(order_id, "id"), soci::into(s);
    return s;
  }

  std::string url;
  events::Database db;
  events::Database other_db;
  soci::session& sql;
  events::SchemaRegistry schemas;
  events::SystemClock clock;
  events::UuidV7Generator ids;
  events::EnvelopeFactory factory;
  order::SagaStore store;
  order::OrderHandler handler;
  std::string product = ids.next().str();
  std::string seller = ids.next().str();
  std::string buyer = ids.next().str();
};

}  // namespace

TEST_CASE("a batch locks its orders before any record, and each record sees those before it") {
  Fixture f;
  const std::string a = f.ids.next().str();
  const std::string b = f.ids.next().str();
  const std::string c = f.ids.next().str();
  const std::string unknown = f.ids.next().str();
  f.apply_batch({f.place(a)});
  f.apply_batch({f.place(b)});
  REQUIRE(f.status(a) == "AWAITING_STOCK");
  REQUIRE(f.status(b) == "AWAITING_STOCK");

  f.apply_batch(
      {
          f.stock_reserved(a), f.stock_reserved(b),
          f.charged(a),         // after a's StockReserved in the same transaction
          f.stock_reserved(b),  // a repeat: b already moved on
          f.stock_reserved(unknown),
          f.place(c),           // unknown when the batch began
          f.stock_reserved(c),  // c exists by now
      },
      [&] {
        CHECK_FALSE(f.free_to_lock(a));
        CHECK_FALSE(f.free_to_lock(b));
        CHECK(f.free_to_lock(f.ids.next().str()));
      });

  CHECK(f.steps(a) ==
        "PLACED>PLACED : placed with captured prices\n"
        "PLACED>AWAITING_STOCK ReserveStock: placed; reserving stock\n"
        "AWAITING_STOCK>AWAITING_PAYMENT ChargePayment: stock reserved; charging payment (attempt "
        "1)\n"
        "AWAITING_PAYMENT>AWAITING_PAYMENT CommitReservation: payment charged; committing the "
        "reservation");
  CHECK(f.steps(b).ends_with(
      "\nAWAITING_PAYMENT>AWAITING_PAYMENT : duplicate StockReserved ignored"));
  CHECK(f.status(c) == "AWAITING_PAYMENT");
  CHECK(f.steps(unknown).empty());
  CHECK(f.free_to_lock(a));  // the commit let go
}
