#include "saga_store.hpp"

#include <soci/soci.h>

#include "contracts/contracts.hpp"
#include "events/handler.hpp"

namespace bazaar::order {
namespace {

constexpr const char* kLoadOrder = R"sql(
SELECT buyer_id::text, status, reason, total, currency, payment_token,
       stock_held::int, charged::int, awaiting_release::int, awaiting_refund::int,
       has_token::int, charging::int, attempts, max_attempts,
       COALESCE(to_char(payment_due_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), ''),
       refund_requested, refunded
FROM orders WHERE order_id = CAST(:id AS uuid) FOR UPDATE)sql";

constexpr const char* kLoadLines = R"sql(
SELECT product_id::text, quantity, unit_price, seller_id::text
FROM order_lines WHERE order_id = CAST(:id AS uuid) ORDER BY line_no)sql";

constexpr const char* kInsertOrder = R"sql(
INSERT INTO orders (order_id, buyer_id, status, reason, total, currency, payment_token,
                    has_token, max_attempts, created_at, updated_at)
VALUES (CAST(:id AS uuid), CAST(:buyer AS uuid), :status, :reason, :total, :currency, :token,
        (:has_token <> 0), :max_attempts, CAST(:created AS timestamptz),
        CAST(:updated AS timestamptz)))sql";

constexpr const char* kInsertLine = R"sql(
INSERT INTO order_lines (order_id, line_no, product_id, quantity, unit_price, seller_id)
VALUES (CAST(:id AS uuid), :no, CAST(:product AS uuid), :quantity, :price, CAST(:seller AS uuid)))sql";

// The deadline is re-armed, kept or cleared in the same statement as the state.
constexpr const char* kUpdateOrder = R"sql(
UPDATE orders SET status = :status, reason = :reason,
       stock_held = (:held <> 0), charged = (:charged <> 0),
       awaiting_release = (:release <> 0), awaiting_refund = (:refund <> 0),
       payment_token = :token, has_token = (:has_token <> 0), charging = (:charging <> 0),
       attempts = :attempts, payment_due_at = CAST(NULLIF(:due, '') AS timestamptz),
       deadline_at = CASE :mode WHEN 'set' THEN CAST(:deadline AS timestamptz)
                                WHEN 'clear' THEN NULL ELSE deadline_at END,
       updated_at = CAST(:now AS timestamptz)
WHERE order_id = CAST(:id AS uuid))sql";

constexpr const char* kInsertStep = R"sql(
INSERT INTO saga_steps (order_id, at, trigger, from_status, to_status, commands, note)
VALUES (CAST(:id AS uuid), CAST(:now AS timestamptz), :trigger, :from, :to, :commands, :note))sql";

constexpr const char* kDueOrders = R"sql(
SELECT order_id::text FROM orders
WHERE deadline_at <= CAST(:now AS timestamptz)
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
  OrderRecord r;
  r.order_id = order_id;
  std::string status;
  long long total = 0;
  int held = 0, charged = 0, release = 0, refund = 0, has_token = 0, charging = 0;
  long long requested = 0, refunded = 0;
  soci::indicator found = soci::i_null;
  sql << kLoadOrder, soci::use(order_id, "id"), soci::into(r.buyer_id, found), soci::into(status),
      soci::into(r.saga.reason), soci::into(total), soci::into(r.currency),
      soci::into(r.payment_token), soci::into(held), soci::into(charged), soci::into(release),
      soci::into(refund), soci::into(has_token), soci::into(charging), soci::into(r.saga.attempts),
      soci::into(r.saga.max_attempts), soci::into(r.payment_due_at), soci::into(requested),
      soci::into(refunded);
  if (!sql.got_data()) return std::nullopt;
  r.total = total;
  r.saga.status = status_from_string(status).value_or(Status::kRejected);
  r.saga.stock_held = held != 0;
  r.saga.charged = charged != 0;
  r.saga.awaiting_release = release != 0;
  r.saga.awaiting_refund = refund != 0;
  r.saga.has_token = has_token != 0;
  r.saga.charging = charging != 0;
  r.refund_requested = requested;
  r.refunded = refunded;

  constexpr std::size_t kMaxLines = 100;  // the PlaceOrder schema's limit
  std::vector<std::string> products(kMaxLines), sellers(kMaxLines);
  std::vector<long long> quantities(kMaxLines), prices(kMaxLines);
  sql << kLoadLines, soci::use(order_id, "id"), soci::into(products), soci::into(quantities),
      soci::into(prices), soci::into(sellers);
  for (std::size_t i = 0; i < products.size(); ++i) {
    r.lines.push_back({products[i], quantities[i], prices[i], sellers[i]});
  }
  return r;
}

void SagaStore::insert(soci::session& sql, events::OutboxWriter& out, const OrderRecord& order,
                       const events::Envelope* cause) const {
  const std::string status(to_string(order.saga.status));
  const long long total = order.total;
  const std::string now = events::format_rfc3339(clock_.now());
  const int has_token = order.saga.has_token ? 1 : 0;
  sql << kInsertOrder, soci::use(order.order_id, "id"), soci::use(order.buyer_id, "buyer"),
      soci::use(status, "status"), soci::use(order.saga.reason, "reason"),
      soci::use(total, "total"), soci::use(order.currency, "currency"),
      soci::use(order.payment_token, "token"), soci::use(has_token, "has_token"),
      soci::use(order.saga.max_attempts, "max_attempts"), soci::use(now, "created"),
      soci::use(now, "updated");
  int no = 0;
  for (const auto& l : order.lines) {
    const long long quantity = l.quantity;
    const long long price = l.unit_price;
    sql << kInsertLine, soci::use(order.order_id, "id"), soci::use(no, "no"),
        soci::use(l.product_id, "product"), soci::use(quantity, "quantity"),
        soci::use(price, "price"), soci::use(l.seller_id, "seller");
    ++no;
  }
  const bool rejected = order.saga.status == Status::kRejected;
  log_step(sql, order.order_id, contracts::order::PlaceOrderV1::kType, Status::kPlaced,
           order.saga.status, {},
           rejected ? "could not be priced: " + order.saga.reason : "placed with captured prices");
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
  const int held = d.saga.stock_held ? 1 : 0;
  const int charged = d.saga.charged ? 1 : 0;
  const int release = d.saga.awaiting_release ? 1 : 0;
  const int refund = d.saga.awaiting_refund ? 1 : 0;
  const int has_token = d.saga.has_token ? 1 : 0;
  const int charging = d.saga.charging ? 1 : 0;
  const std::string stamp = events::format_rfc3339(now);
  soci::indicator deadline_ind = deadline.empty() ? soci::i_null : soci::i_ok;
  sql << kUpdateOrder, soci::use(status, "status"), soci::use(d.saga.reason, "reason"),
      soci::use(held, "held"), soci::use(charged, "charged"), soci::use(release, "release"),
      soci::use(refund, "refund"), soci::use(before.payment_token, "token"),
      soci::use(has_token, "has_token"), soci::use(charging, "charging"),
      soci::use(d.saga.attempts, "attempts"), soci::use(due, "due"), soci::use(mode, "mode"),
      soci::use(deadline, deadline_ind, "deadline"), soci::use(stamp, "now"),
      soci::use(before.order_id, "id");
  log_step(sql, before.order_id, trigger, from, to, d.commands, d.note);
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

std::vector<std::string> SagaStore::due_orders(soci::session& sql, int limit) const {
  std::vector<std::string> ids(static_cast<std::size_t>(limit));
  const std::string now = events::format_rfc3339(clock_.now());
  sql << kDueOrders, soci::use(now, "now"), soci::use(limit, "n"), soci::into(ids);
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
  std::string sent;
  for (Command c : commands) {
    if (!sent.empty()) sent += ",";
    sent += command_name(c);
  }
  const std::string now = events::format_rfc3339(clock_.now());
  const std::string f(to_string(from));
  const std::string t(to_string(to));
  sql << kInsertStep, soci::use(order_id, "id"), soci::use(now, "now"),
      soci::use(trigger, "trigger"), soci::use(f, "from"), soci::use(t, "to"),
      soci::use(sent, "commands"), soci::use(note, "note");
}

}  // namespace bazaar::order
