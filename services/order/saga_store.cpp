#include "saga_store.hpp"

#include <soci/soci.h>

#include "contracts/contracts.hpp"
#include "events/db.hpp"
#include "events/handler.hpp"

namespace bazaar::order {
namespace {

// Every input of a saga runs these four: prepared once per connection (events::PreparedStatement).
const events::PreparedStatement kLoadOrder{"order_load", R"sql(
SELECT buyer_id::text, status, reason, total, currency, payment_token,
       stock_held::int, charged::int, awaiting_release::int, awaiting_refund::int,
       has_token::int, charging::int, attempts, max_attempts,
       COALESCE(to_char(payment_due_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), ''),
       refund_requested, refunded
FROM orders WHERE order_id = CAST($1 AS uuid) FOR UPDATE)sql"};

const events::PreparedStatement kLoadLines{"order_lines", R"sql(
SELECT product_id::text, quantity, unit_price, seller_id::text
FROM order_lines WHERE order_id = CAST($1 AS uuid) ORDER BY line_no)sql"};

// A new order, every line of it (numbered from 0) and its first step in one statement: the
// foreign key of the lines is checked at its end, when the order row is there.
const events::PreparedStatement kInsertOrder{"order_insert", R"sql(
WITH placed AS (
  INSERT INTO orders (order_id, buyer_id, status, reason, total, currency, payment_token,
                      has_token, max_attempts, created_at, updated_at)
  VALUES (CAST($1 AS uuid), CAST($2 AS uuid), $3, $4, CAST($5 AS bigint), $6, $7,
          CAST($8 AS boolean), CAST($9 AS integer), CAST($10 AS timestamptz),
          CAST($10 AS timestamptz))
  RETURNING order_id),
lines AS (
  INSERT INTO order_lines (order_id, line_no, product_id, quantity, unit_price, seller_id)
  SELECT CAST($1 AS uuid), CAST(l.no AS integer) - 1, l.product_id, l.quantity, l.price, l.seller
  FROM unnest(CAST($11 AS uuid[]), CAST($12 AS bigint[]), CAST($13 AS bigint[]),
              CAST($14 AS uuid[]))
       WITH ORDINALITY AS l (product_id, quantity, price, seller, no))
INSERT INTO saga_steps (order_id, at, trigger, from_status, to_status, commands, note)
SELECT order_id, CAST($10 AS timestamptz), $15, $16, $3, '', $17 FROM placed)sql"};

// The deadline is re-armed, kept or cleared in the same statement as the state, and the step
// is logged by it too.
const events::PreparedStatement kUpdateOrder{"order_update", R"sql(
WITH changed AS (
  UPDATE orders SET status = $1, reason = $2,
         stock_held = CAST($3 AS boolean), charged = CAST($4 AS boolean),
         awaiting_release = CAST($5 AS boolean), awaiting_refund = CAST($6 AS boolean),
         payment_token = $7, has_token = CAST($8 AS boolean), charging = CAST($9 AS boolean),
         attempts = CAST($10 AS integer), payment_due_at = CAST(NULLIF($11, '') AS timestamptz),
         deadline_at = CASE $12 WHEN 'set' THEN CAST($13 AS timestamptz)
                                WHEN 'clear' THEN NULL ELSE deadline_at END,
         updated_at = CAST($14 AS timestamptz)
  WHERE order_id = CAST($15 AS uuid)
  RETURNING order_id)
INSERT INTO saga_steps (order_id, at, trigger, from_status, to_status, commands, note)
SELECT order_id, CAST($14 AS timestamptz), $16, $17, $1, $18, $19 FROM changed)sql"};

const events::PreparedStatement kInsertStep{"order_step", R"sql(
INSERT INTO saga_steps (order_id, at, trigger, from_status, to_status, commands, note)
VALUES (CAST($1 AS uuid), CAST($2 AS timestamptz), $3, $4, $5, $6, $7))sql"};

std::string flag(bool b) {
  return b ? "true" : "false";
}

// The commands a step sent, as the step log keeps them: "ReserveStock,ChargePayment".
std::string command_list(const std::vector<Command>& commands) {
  std::string sent;
  for (Command c : commands) {
    if (!sent.empty()) sent += ",";
    sent += command_name(c);
  }
  return sent;
}

constexpr const char* kDueOrders = R"sql(
SELECT order_id::text FROM orders
WHERE deadline_at <= CAST(:now AS timestamptz) AND deadline_at >= CAST(:from_at AS timestamptz)
ORDER BY deadline_at LIMIT :n FOR UPDATE SKIP LOCKED)sql";

constexpr const char* kRefundKnown =
    "SELECT 1 FROM order_refunds WHERE refund_id = CAST(:refund_id AS uuid)";

constexpr const char* kInsertRefund = R"sql(
INSERT INTO order_refunds (refund_id, order_id, amount, reason, actor_id, requested_at)
VALUES (CAST(:refund_id AS uuid), CAST(:order_id AS uuid), :amount, :reason, CAST(:actor AS uuid),
        CAST(:now AS timestamptz)))sql";

constexpr const char* kAddRequested = R"sql(
UPDATE orders SET refund_requested = refund_requested + :amount, updated_at = CAST(:now AS timestamptz)
WHERE order_id = CAST(:id AS uuid))sql";

// Marks the refund paid the first time only; its amount and reason come back for OrderRefunded.
constexpr const char* kMarkRefundPaid = R"sql(
UPDATE order_refunds SET refunded_at = CAST(:now AS timestamptz)
WHERE refund_id = CAST(:refund_id AS uuid) AND refunded_at IS NULL
RETURNING amount, reason)sql";

constexpr const char* kSetRefunded = R"sql(
UPDATE orders SET refunded = GREATEST(refunded, :refunded) WHERE order_id = CAST(:id AS uuid))sql";

}  // namespace

SagaStore::SagaStore(Timeouts timeouts, const events::EnvelopeFactory& factory,
                     const events::Clock& clock)
    : timeouts_(timeouts), factory_(factory), clock_(clock) {}

std::optional<OrderRecord> SagaStore::load_for_update(soci::session& sql,
                                                      const std::string& order_id) const {
  const events::PreparedRows row = kLoadOrder.query(sql, {&order_id});
  if (row.empty()) return std::nullopt;
  OrderRecord r;
  r.order_id = order_id;
  r.buyer_id = row.text(0, 0);
  r.saga.status = status_from_string(row.text(0, 1)).value_or(Status::kRejected);
  r.saga.reason = row.text(0, 2);
  r.total = row.integer(0, 3);
  r.currency = row.text(0, 4);
  r.payment_token = row.text(0, 5);
  r.saga.stock_held = row.integer(0, 6) != 0;
  r.saga.charged = row.integer(0, 7) != 0;
  r.saga.awaiting_release = row.integer(0, 8) != 0;
  r.saga.awaiting_refund = row.integer(0, 9) != 0;
  r.saga.has_token = row.integer(0, 10) != 0;
  r.saga.charging = row.integer(0, 11) != 0;
  r.saga.attempts = static_cast<int>(row.integer(0, 12));
  r.saga.max_attempts = static_cast<int>(row.integer(0, 13));
  r.payment_due_at = row.text(0, 14);
  r.refund_requested = row.integer(0, 15);
  r.refunded = row.integer(0, 16);

  const events::PreparedRows lines = kLoadLines.query(sql, {&order_id});
  for (int i = 0; i < lines.size(); ++i) {
    r.lines.push_back(
        {lines.text(i, 0), lines.integer(i, 1), lines.integer(i, 2), lines.text(i, 3)});
  }
  return r;
}

void SagaStore::insert(soci::session& sql, events::OutboxWriter& out, const OrderRecord& order,
                       const events::Envelope* cause) const {
  const std::string status(to_string(order.saga.status));
  const std::string total = std::to_string(order.total);
  const std::string now = events::format_rfc3339(clock_.now());
  const std::string has_token = flag(order.saga.has_token);
  const std::string max_attempts = std::to_string(order.saga.max_attempts);
  std::vector<std::string> products, sellers;
  std::vector<long long> quantities, prices;
  for (const auto& l : order.lines) {
    products.push_back(l.product_id);
    quantities.push_back(l.quantity);
    prices.push_back(l.unit_price);
    sellers.push_back(l.seller_id);
  }
  const std::string product_array = events::pg_text_array(products);
  const std::string quantity_array = events::pg_int_array(quantities);
  const std::string price_array = events::pg_int_array(prices);
  const std::string seller_array = events::pg_text_array(sellers);
  const std::string trigger = contracts::order::PlaceOrderV1::kType;
  const std::string placed(to_string(Status::kPlaced));
  const std::string note = order.saga.status == Status::kRejected
                               ? "could not be priced: " + order.saga.reason
                               : "placed with captured prices";
  kInsertOrder.run(
      sql, {&order.order_id, &order.buyer_id, &status, &order.saga.reason, &total, &order.currency,
            &order.payment_token, &has_token, &max_attempts, &now, &product_array, &quantity_array,
            &price_array, &seller_array, &trigger, &placed, &note});
  send(out, order.order_id, placement_message(order), cause);
}

void SagaStore::apply(soci::session& sql, events::OutboxWriter& out, const OrderRecord& before,
                      const Decision& d, const std::string& trigger,
                      const events::Envelope* cause) const {
  const Status from = before.saga.status;
  const Status to = d.saga.status;
  const auto now = clock_.now();

  std::string mode = "keep";
  std::string deadline;
  // The payment window is fixed the first time the saga waits for the buyer.
  std::string due = before.payment_due_at;
  if (is_settled(to)) {
    mode = "clear";
  } else if (d.deadline == Deadline::kPaymentDue) {
    mode = "set";
    if (due.empty()) due = events::format_rfc3339(now + timeouts_.payment_window);
    deadline = due;
  } else if (d.deadline != Deadline::kNone) {
    mode = "set";
    const auto wait = d.deadline == Deadline::kStock     ? timeouts_.stock
                      : d.deadline == Deadline::kPayment ? timeouts_.payment
                                                         : timeouts_.compensation;
    deadline = events::format_rfc3339(now + wait);
  }
  const std::string status(to_string(to));
  const std::string held = flag(d.saga.stock_held);
  const std::string charged = flag(d.saga.charged);
  const std::string release = flag(d.saga.awaiting_release);
  const std::string refund = flag(d.saga.awaiting_refund);
  const std::string has_token = flag(d.saga.has_token);
  const std::string charging = flag(d.saga.charging);
  const std::string attempts = std::to_string(d.saga.attempts);
  const std::string stamp = events::format_rfc3339(now);
  const std::string from_status(to_string(from));
  const std::string sent = command_list(d.commands);
  kUpdateOrder.run(
      sql, {&status, &d.saga.reason, &held, &charged, &release, &refund, &before.payment_token,
            &has_token, &charging, &attempts, &due, &mode, deadline.empty() ? nullptr : &deadline,
            &stamp, &before.order_id, &trigger, &from_status, &sent, &d.note});
  for (const auto& m : decision_messages(before, d, trigger, due, hold_seconds())) {
    send(out, before.order_id, m, cause);
  }
}

bool SagaStore::refund_known(soci::session& sql, const std::string& refund_id) const {
  int found = 0;
  sql << kRefundKnown, soci::use(refund_id, "refund_id"), soci::into(found);
  return sql.got_data();
}

void SagaStore::record_refund(soci::session& sql, const OrderRecord& order, std::int64_t amount,
                              const std::string& actor_id) const {
  const std::string now = events::format_rfc3339(clock_.now());
  const long long value = amount;
  sql << kInsertRefund, soci::use(order.refund_id, "refund_id"),
      soci::use(order.order_id, "order_id"), soci::use(value, "amount"),
      soci::use(order.refund_reason, "reason"), soci::use(actor_id, "actor"), soci::use(now, "now");
  sql << kAddRequested, soci::use(value, "amount"), soci::use(now, "now"),
      soci::use(order.order_id, "id");
}

void SagaStore::send_partial_refund(soci::session& sql, events::OutboxWriter& out,
                                    const OrderRecord& order, std::int64_t amount,
                                    const std::string& trigger,
                                    const events::Envelope* cause) const {
  log_step(sql, order.order_id, trigger, order.saga.status, order.saga.status,
           {Command::kRefundPayment},
           "refund " + order.refund_id + " of " + std::to_string(amount) + " requested");
  send(out, order.order_id, partial_refund_message(order, amount), cause);
}

void SagaStore::refund_paid(soci::session& sql, events::OutboxWriter& out, const OrderRecord& order,
                            const std::string& refund_id, std::int64_t refunded_total,
                            const events::Envelope* cause) const {
  const long long total = refunded_total;
  sql << kSetRefunded, soci::use(total, "refunded"), soci::use(order.order_id, "id");
  const std::string now = events::format_rfc3339(clock_.now());
  long long amount = 0;
  std::string reason;
  sql << kMarkRefundPaid, soci::use(now, "now"), soci::use(refund_id, "refund_id"),
      soci::into(amount), soci::into(reason);
  if (!sql.got_data()) return;  // not ours, or answered before
  log_step(sql, order.order_id, contracts::payment::PaymentRefundedV1::kType, order.saga.status,
           order.saga.status, {}, "refund " + refund_id + " paid out");
  send(out, order.order_id, refunded_message(order, refund_id, amount, refunded_total, reason),
       cause);
}

int SagaStore::hold_seconds() const {
  // A reservation outlives every wait of its saga: the stock answer, the buyer's payment
  // window, a charge started at its very end, and the commit; plus a minute to spare.
  const auto hold = timeouts_.stock + timeouts_.payment_window + 2 * timeouts_.payment;
  return static_cast<int>(std::chrono::ceil<std::chrono::seconds>(hold).count()) + 60;
}

void SagaStore::apply_unknown(events::OutboxWriter& out, const std::string& order_id,
                              const Decision& d, const events::Envelope* cause) const {
  for (const auto& m : unknown_order_messages(order_id, d)) send(out, order_id, m, cause);
}

std::vector<std::string> SagaStore::due_orders(
    soci::session& sql, int limit, events::Clock::time_point now,
    std::optional<events::Clock::time_point> from) const {
  std::vector<std::string> ids(static_cast<std::size_t>(limit));
  const std::string until = events::format_rfc3339(now);
  const std::string since = from ? events::format_rfc3339(*from) : std::string("-infinity");
  sql << kDueOrders, soci::use(until, "now"), soci::use(since, "from_at"), soci::use(limit, "n"),
      soci::into(ids);
  return ids;
}

void SagaStore::send(events::OutboxWriter& out, const std::string& order_id, const Message& m,
                     const events::Envelope* cause) const {
  // The order id correlates every event of its saga, also those a deadline caused.
  events::emit(out, factory_, m.topic, order_id, m.type, m.payload, cause, order_id);
}

void SagaStore::log_step(soci::session& sql, const std::string& order_id,
                         const std::string& trigger, Status from, Status to,
                         const std::vector<Command>& commands, const std::string& note) const {
  const std::string sent = command_list(commands);
  const std::string now = events::format_rfc3339(clock_.now());
  const std::string f(to_string(from));
  const std::string t(to_string(to));
  kInsertStep.run(sql, {&order_id, &now, &trigger, &f, &t, &sent, &note});
}

}  // namespace bazaar::order
