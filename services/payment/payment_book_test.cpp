// PaymentBook against the real PostgreSQL: a batch of payment commands, its payments created,
// read and locked once and written back once, leaves the payments and events that one
// transaction per command leaves.
#include <doctest/doctest.h>
#include <soci/soci.h>

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
#include "payment_handler.hpp"
#include "sandbox_provider.hpp"

using namespace bazaar;

namespace {

struct Fixture {
  Fixture()
      : db(tests::required_env("BAZAAR_TEST_DB")),
        ids(clock, events::system_random()),
        factory("payment-test", clock, ids, events::system_random()),
        schemas(BAZAAR_SCHEMAS_DIR),
        sql(db.session()) {
    events::migrate(db, "platform", events::platform_migrations());
    events::migrate(db, "payment", events::load_migrations(BAZAAR_PAYMENT_MIGRATIONS_DIR));
  }

  events::Envelope record(std::string type, boost::json::object data) const {
    return tests::order_event(factory, std::move(type), std::move(data));
  }

  // The commands of a few orders as one poll may bring them: a charge, its repeat and a partial
  // refund of it; a decline and the second attempt that pays; a refund of an order never
  // charged, and the charge that comes after it.
  std::vector<events::Envelope> records(const std::vector<std::string>& order) {
    namespace pay = contracts::payment;
    auto charge = [&](const std::string& id, const char* token, int attempt) {
      return record(pay::ChargePaymentV1::kType, {{"order_id", id},
                                                  {"amount", 1250},
                                                  {"currency", "EUR"},
                                                  {"payment_token", token},
                                                  {"attempt", attempt}});
    };
    return {
        charge(order[0], "tok_ok", 1),
        charge(order[1], "tok_decline", 1),
        record(pay::RefundPaymentV1::kType, {{"order_id", order[2]}, {"reason", "cancelled"}}),
        charge(order[0], "tok_ok", 1),
        charge(order[1], "tok_ok", 2),
        record(pay::RefundPaymentV1::kType,
               {{"order_id", order[0]}, {"reason", "damaged"}, {"amount", 250}}),
        charge(order[2], "tok_ok", 1),
    };
  }

  // What the commands left about an order, without its ids and times: the payment and the
  // events keyed by it, in order.
  std::vector<std::string> trace(const std::string& order_id) {
    std::vector<std::string> out;
    soci::rowset<soci::row> rows = (sql.prepare << R"sql(
SELECT concat_ws(' ', 'payment', status, payment_id IS NOT NULL, amount, currency, charged_amount,
                 refunded_amount, decline_reason, attempts, last_attempt, charged_at IS NOT NULL,
                 refunded_at IS NOT NULL)
FROM payments WHERE order_id = CAST(:id AS uuid)
UNION ALL
SELECT * FROM (SELECT concat_ws(' ', 'event', type, payload->>'amount', payload->>'reason',
                                payload->>'attempt', payload->>'refunded_now')
               FROM outbox WHERE aggregateid = :id ORDER BY seq) AS e)sql",
                                    soci::use(order_id, "id"));
    for (const auto& row : rows) out.push_back(row.get<std::string>(0));
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

TEST_CASE_FIXTURE(Fixture,
                  "a batch of payment commands leaves what one transaction per command leaves") {
  payment::SandboxProvider provider;
  payment::PaymentHandler handler(provider, ids, "EUR");
  const auto alone = tests::fresh_ids(ids, 3);
  const auto batched = tests::fresh_ids(ids, 3);
  tests::apply_one_by_one(handler, bench(), records(alone));
  tests::apply_together(handler, bench(), records(batched));
  for (std::size_t i = 0; i < alone.size(); ++i) {
    CAPTURE(i);
    CHECK(trace(batched[i]) == trace(alone[i]));
  }
  // Not vacuous: charged once and partly refunded; declined, then paid on its second attempt;
  // voided by a refund before any charge, which then refuses the charge.
  CHECK(trace(batched[0]).front() == "payment CHARGED t 1250 EUR 1250 250 1 1 t t");
  CHECK(trace(batched[1]).front() == "payment CHARGED t 1250 EUR 1250 0 2 2 t f");
  CHECK(trace(batched[2]).front() == "payment VOIDED f 0 EUR 0 0 0 1 f f");
}
