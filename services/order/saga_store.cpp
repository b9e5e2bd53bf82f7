#include "saga_store.hpp"

#include <soci/soci.h>

#include <algorithm>

#include "contracts/contracts.hpp"
#include "events/db.hpp"
#include "events/handler.hpp"

namespace bazaar::order {
namespace {

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

void SagaStore::insert(OrderBook& book, events::OutboxWriter& out, const OrderRecord& order,
                       const events::Envelope* cause) const {
  const std::string now = events::format_rfc3339(clock_.now());
  book.add(order, now);
  book.log({.order_id = order.order_id,
            .at = now,
            .trigger = contracts::order::PlaceOrderV1::kType,
            .from_status = std::string(to_string(Status::kPlaced)),
            .to_status = std::string(to_string(order.saga.status)),
            .commands = "",
            .note = order.saga.status == Status::kRejected
                        ? "could not be priced: " + order.saga.reason
                        : "placed with captured prices"});
  send(out, order.order_id, placement_message(order), cause);
}

void SagaStore::apply(OrderBook& book, events::OutboxWriter& out, const OrderRecord& before,
                      const Decision& d, const std::string& trigger,
                      const events::Envelope* cause) const {
  const Status from = before.saga.status;
  const Status to = d.saga.status;
  const auto now = clock_.now();

  DeadlineChange deadline;
  // The payment window is fixed the first time the saga waits for the buyer.
  std::string due = before.payment_due_at;
  if (is_settled(to)) {
    deadline.mode = DeadlineChange::Mode::kClear;
  } else if (d.deadline == Deadline::kPaymentDue) {
    if (due.empty()) due = events::format_rfc3339(now + timeouts_.payment_window);
    deadline = {DeadlineChange::Mode::kSet, due};
  } else if (d.deadline != Deadline::kNone) {
    const auto wait = d.deadline == Deadline::kStock     ? timeouts_.stock
                      : d.deadline == Deadline::kPayment ? timeouts_.payment
                                                         : timeouts_.compensation;
    deadline = {DeadlineChange::Mode::kSet, events::format_rfc3339(now + wait)};
  }
  const std::string stamp = events::format_rfc3339(now);
  OrderRecord after = before;
  after.saga = d.saga;
  after.payment_due_at = due;
  book.change(after, deadline, stamp);
  book.log({.order_id = before.order_id,
            .at = stamp,
            .trigger = trigger,
            .from_status = std::string(to_string(from)),
            .to_status = std::string(to_string(to)),
            .commands = command_list(d.commands),
            .note = d.note});
  for (const auto& m : decision_messages(before, d, trigger, due, hold_seconds())) {
    send(out, before.order_id, m, cause);
  }
}

bool SagaStore::refund_known(soci::session& sql, const std::string& refund_id) const {
  int found = 0;
  sql << kRefundKnown, soci::use(refund_id, "refund_id"), soci::into(found);
  return sql.got_data();
}

void SagaStore::record_refund(soci::session& sql, OrderBook& book, const OrderRecord& order,
                              std::int64_t amount, const std::string& actor_id) const {
  book.flush(sql);  // the refund's row names the order, which may be new in this transaction
  const std::string now = events::format_rfc3339(clock_.now());
  const long long value = amount;
  sql << kInsertRefund, soci::use(order.refund_id, "refund_id"),
      soci::use(order.order_id, "order_id"), soci::use(value, "amount"),
      soci::use(order.refund_reason, "reason"), soci::use(actor_id, "actor"), soci::use(now, "now");
  sql << kAddRequested, soci::use(value, "amount"), soci::use(now, "now"),
      soci::use(order.order_id, "id");
  book.adjust(order.order_id, [amount](OrderRecord& held) { held.refund_requested += amount; });
}

void SagaStore::send_partial_refund(OrderBook& book, events::OutboxWriter& out,
                                    const OrderRecord& order, std::int64_t amount,
                                    const std::string& trigger,
                                    const events::Envelope* cause) const {
  log_step(book, order.order_id, trigger, order.saga.status, order.saga.status,
           {Command::kRefundPayment},
           "refund " + order.refund_id + " of " + std::to_string(amount) + " requested");
  send(out, order.order_id, partial_refund_message(order, amount), cause);
}

void SagaStore::refund_paid(soci::session& sql, OrderBook& book, events::OutboxWriter& out,
                            const OrderRecord& order, const std::string& refund_id,
                            std::int64_t refunded_total, const events::Envelope* cause) const {
  book.flush(sql);  // the order may be new in this transaction
  const long long total = refunded_total;
  sql << kSetRefunded, soci::use(total, "refunded"), soci::use(order.order_id, "id");
  book.adjust(order.order_id, [total](OrderRecord& held) {
    held.refunded = std::max<std::int64_t>(held.refunded, total);
  });
  const std::string now = events::format_rfc3339(clock_.now());
  long long amount = 0;
  std::string reason;
  sql << kMarkRefundPaid, soci::use(now, "now"), soci::use(refund_id, "refund_id"),
      soci::into(amount), soci::into(reason);
  if (!sql.got_data()) return;  // not ours, or answered before
  log_step(book, order.order_id, contracts::payment::PaymentRefundedV1::kType, order.saga.status,
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

void SagaStore::log_step(OrderBook& book, const std::string& order_id, const std::string& trigger,
                         Status from, Status to, const std::vector<Command>& commands,
                         const std::string& note) const {
  book.log({.order_id = order_id,
            .at = events::format_rfc3339(clock_.now()),
            .trigger = trigger,
            .from_status = std::string(to_string(from)),
            .to_status = std::string(to_string(to)),
            .commands = command_list(commands),
            .note = note});
}

}  // namespace bazaar::order
