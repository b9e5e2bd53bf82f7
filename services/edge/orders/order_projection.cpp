#include "orders/order_projection.hpp"

#include <soci/soci.h>

#include <boost/json/array.hpp>

#include "events/envelope.hpp"
#include "events/fields.hpp"
#include "orders/order_view.hpp"

namespace bazaar::edge {
namespace {

namespace ord = contracts::order;
constexpr std::string_view kStatusChanged = ord::OrderStatusChangedV1::kType;
constexpr std::string_view kConfirmed = ord::OrderConfirmedV1::kType;
constexpr std::string_view kRejected = ord::OrderRejectedV1::kType;
constexpr std::string_view kCancelled = ord::OrderCancelledV1::kType;

// An order the edge did not post (placed straight on order.commands) gets its row here.
constexpr const char* kEnsureOrder = R"sql(
INSERT INTO orders_view (order_id, buyer_id, status, total, currency, created_at, updated_at)
VALUES (CAST(:id AS uuid), CAST(:buyer AS uuid), 'PLACED', 0, :currency,
        CAST(:created AS timestamptz), CAST(:updated AS timestamptz))
ON CONFLICT (order_id) DO NOTHING)sql";

constexpr const char* kPlacedStep = R"sql(
INSERT INTO order_steps_view (order_id, seq, at, status, previous_status)
SELECT order_id, 0, created_at, 'PLACED', 'PLACED' FROM orders_view WHERE order_id = CAST(:id AS uuid)
ON CONFLICT DO NOTHING)sql";

constexpr const char* kLockOrder = R"sql(
SELECT status, COALESCE(reason, '') FROM orders_view WHERE order_id = CAST(:id AS uuid) FOR UPDATE)sql";

constexpr const char* kSetPrices = R"sql(
UPDATE orders_view SET total = :total, currency = :currency,
       updated_at = GREATEST(updated_at, CAST(:at AS timestamptz))
WHERE order_id = CAST(:id AS uuid))sql";

constexpr const char* kUpsertLine = R"sql(
INSERT INTO order_lines_view (order_id, line_no, product_id, quantity, unit_price)
VALUES (CAST(:id AS uuid), :no, CAST(:product AS uuid), :quantity, :price)
ON CONFLICT (order_id, line_no) DO UPDATE
SET product_id = EXCLUDED.product_id, quantity = EXCLUDED.quantity, unit_price = EXCLUDED.unit_price)sql";

constexpr const char* kTrimLines =
    "DELETE FROM order_lines_view WHERE order_id = CAST(:id AS uuid) AND line_no >= :n";

// The next seq is computed in the statement; one order's events are applied one at a time
// (they share a partition), so two steps of one order never race for a number.
constexpr const char* kInsertStep = R"sql(
INSERT INTO order_steps_view (order_id, seq, at, status, previous_status, reason)
SELECT CAST(:id AS uuid), COALESCE(MAX(seq) + 1, 0), CAST(:at AS timestamptz), :status, :previous,
       NULLIF(:reason, '')
FROM order_steps_view WHERE order_id = CAST(:same_id AS uuid)
ON CONFLICT DO NOTHING)sql";

// settled_at keeps the first outcome: a later cancellation or shipment does not move it.
constexpr const char* kSetStatus = R"sql(
UPDATE orders_view SET status = :status, reason = NULLIF(:reason, ''),
       updated_at = GREATEST(updated_at, CAST(:at AS timestamptz)),
       settled_at = CASE WHEN :outcome = 1 THEN COALESCE(settled_at, CAST(:settled AS timestamptz))
                         ELSE settled_at END
WHERE order_id = CAST(:id AS uuid))sql";

constexpr const char* kSetTotal =
    "UPDATE orders_view SET total = :total WHERE order_id = CAST(:id AS uuid)";

// A charge after a refund (a late charge refunded at once) keeps the row REFUNDED.
constexpr const char* kUpsertCharged = R"sql(
INSERT INTO payments_view (order_id, status, amount, refunded, currency, payment_id, updated_at)
VALUES (CAST(:id AS uuid), 'CHARGED', :amount, 0, :currency, CAST(:payment AS uuid),
        CAST(:at AS timestamptz))
ON CONFLICT (order_id) DO UPDATE
SET amount = EXCLUDED.amount, currency = EXCLUDED.currency, payment_id = EXCLUDED.payment_id,
    status = CASE WHEN payments_view.refunded > 0 THEN 'REFUNDED' ELSE 'CHARGED' END,
    reason = NULL, updated_at = EXCLUDED.updated_at)sql";

// A decline never overrides a charge or a refund of the same order.
constexpr const char* kUpsertDeclined = R"sql(
INSERT INTO payments_view (order_id, status, amount, refunded, currency, reason, updated_at)
VALUES (CAST(:id AS uuid), 'DECLINED', 0, 0,
        COALESCE((SELECT currency FROM orders_view WHERE order_id = CAST(:order_id AS uuid)), 'EUR'),
        NULLIF(:reason, ''), CAST(:at AS timestamptz))
ON CONFLICT (order_id) DO UPDATE
SET reason = EXCLUDED.reason, updated_at = EXCLUDED.updated_at
WHERE payments_view.status = 'DECLINED')sql";

// PaymentRefunded carries the order's refunded total so far, not an increment: a refund sent
// again (compensations are retried) reports the same total, which GREATEST absorbs.
// A payment partly refunded stays CHARGED; it is REFUNDED once all of it went back.
constexpr const char* kUpsertRefunded = R"sql(
INSERT INTO payments_view (order_id, status, amount, refunded, currency, payment_id, updated_at)
VALUES (CAST(:id AS uuid), 'REFUNDED', :charged, :amount, :currency,
        CAST(NULLIF(:payment, '') AS uuid), CAST(:at AS timestamptz))
ON CONFLICT (order_id) DO UPDATE
SET refunded = GREATEST(payments_view.refunded, EXCLUDED.refunded),
    status = CASE WHEN GREATEST(payments_view.refunded, EXCLUDED.refunded) >= payments_view.amount
                  THEN 'REFUNDED' ELSE payments_view.status END,
    payment_id = COALESCE(payments_view.payment_id, EXCLUDED.payment_id),
    updated_at = EXCLUDED.updated_at)sql";

// A replayed answer of an attempt keeps its first record.
constexpr const char* kInsertAttempt = R"sql(
INSERT INTO payment_attempts_view (order_id, attempt, outcome, reason, at)
VALUES (CAST(:id AS uuid), :attempt, :outcome, NULLIF(:reason, ''), CAST(:at AS timestamptz))
ON CONFLICT (order_id, attempt) DO NOTHING)sql";

// The window only ever moves forward in attempts: a late copy of an earlier wait is ignored.
constexpr const char* kAwaitingPayment = R"sql(
UPDATE orders_view SET payment_due_at = CAST(:due AS timestamptz), payment_attempts_left = :left
WHERE order_id = CAST(:id AS uuid)
  AND (payment_attempts_left IS NULL OR payment_attempts_left >= :same_left))sql";

// An admin refund's answer; a repeat (refunded_now 0) keeps what the first said.
constexpr const char* kRefundPaid = R"sql(
UPDATE refunds_view SET status = 'REFUNDED', refunded_at = CAST(:at AS timestamptz),
       amount = CASE WHEN :now > 0 THEN :same_now ELSE amount END
WHERE refund_id = CAST(:refund_id AS uuid) AND status <> 'REFUNDED')sql";

constexpr const char* kRefundRefused = R"sql(
UPDATE refunds_view SET status = 'REFUSED', refusal = :reason
WHERE refund_id = CAST(:refund_id AS uuid) AND status = 'REQUESTED')sql";

// The event's own time: replays and rebuilds keep the saga's real timeline.
std::string event_time(const events::HandlerContext& ctx) {
  const auto t = events::parse_rfc3339(ctx.event.time);
  return events::format_rfc3339(t.value_or(ctx.clock.now()));
}

void ensure_order(soci::session& sql, const events::Fields& data, const std::string& at) {
  const std::string id = data.string("order_id");
  const std::string buyer = data.string("buyer_id");
  const std::string currency = data.optional_string("currency").value_or("EUR");
  soci::statement insert =
      (sql.prepare << kEnsureOrder, soci::use(id, "id"), soci::use(buyer, "buyer"),
       soci::use(currency, "currency"), soci::use(at, "created"), soci::use(at, "updated"));
  insert.execute(true);
  if (insert.get_affected_rows() == 1) sql << kPlacedStep, soci::use(id, "id");
}

// Captured prices (OrderPlaced, OrderConfirmed) replace the preview of the posting.
void set_prices(soci::session& sql, const events::Fields& data, const std::string& at) {
  const std::string id = data.string("order_id");
  const long long total = data.int64("total");
  const std::string currency = data.string("currency");
  sql << kSetPrices, soci::use(total, "total"), soci::use(currency, "currency"),
      soci::use(at, "at"), soci::use(id, "id");
  const auto& lines = data.array("lines");
  int no = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto line = events::Fields::item(lines, i, data.path_of("lines"));
    const std::string product = line.string("product_id");
    const long long quantity = line.int64("quantity");
    const long long price = line.int64("unit_price");
    sql << kUpsertLine, soci::use(id, "id"), soci::use(no, "no"), soci::use(product, "product"),
        soci::use(quantity, "quantity"), soci::use(price, "price");
    ++no;
  }
  sql << kTrimLines, soci::use(id, "id"), soci::use(no, "n");
}

void insert_step(soci::session& sql, const std::string& order_id, const std::string& at,
                 const std::string& status, const std::string& previous,
                 const std::string& reason) {
  sql << kInsertStep, soci::use(order_id, "id"), soci::use(at, "at"), soci::use(status, "status"),
      soci::use(previous, "previous"), soci::use(reason, "reason"), soci::use(order_id, "same_id");
}

}  // namespace

OrderProjection::OrderProjection(OrderWaiters& waiters) : waiters_(waiters) {
  on(ord::OrderPlacedV1::kType, &OrderProjection::placed);
  for (const auto type : {kStatusChanged, kConfirmed, kRejected, kCancelled}) {
    on(std::string(type), &OrderProjection::status);
  }
  on(&OrderProjection::awaiting_payment);
  on(&OrderProjection::command_rejected);
  on(&OrderProjection::charged);
  on(&OrderProjection::declined);
  on(&OrderProjection::refunded);
}

std::vector<std::string> OrderProjection::topics() {
  return {contracts::topic::kOrderEvents, contracts::topic::kPaymentEvents};
}

void OrderProjection::placed(events::HandlerContext& ctx) {
  const auto data = events::Fields::of(ctx.event.data);
  const std::string at = event_time(ctx);
  ensure_order(ctx.sql, data, at);
  set_prices(ctx.sql, data, at);
}

void OrderProjection::status(events::HandlerContext& ctx) {
  const auto data = events::Fields::of(ctx.event.data);
  const std::string at = event_time(ctx);
  const std::string& type = ctx.event.type;
  ensure_order(ctx.sql, data, at);

  const std::string id = data.string("order_id");
  std::string from;
  std::string current_reason;
  ctx.sql << kLockOrder, soci::use(id, "id"), soci::into(from), soci::into(current_reason);

  const std::string to = type == kStatusChanged ? data.string("status")
                         : type == kConfirmed   ? "CONFIRMED"
                         : type == kRejected    ? "REJECTED"
                                                : "CANCELLED";
  std::string reason = data.optional_string("reason").value_or("");

  // A status change is history even when it arrives late; the step table keeps each edge once.
  if (type == kStatusChanged) {
    insert_step(ctx.sql, id, at, to, data.string("previous_status"), reason);
  } else if (from != to && may_move(from, to)) {
    // An outcome with no status change before it (an order the order service could not price).
    insert_step(ctx.sql, id, at, to, from, reason);
  }
  if (!may_move(from, to)) return;

  if (from == to && reason.empty()) reason = current_reason;
  const int outcome = is_outcome(to) ? 1 : 0;
  ctx.sql << kSetStatus, soci::use(to, "status"), soci::use(reason, "reason"), soci::use(at, "at"),
      soci::use(outcome, "outcome"), soci::use(at, "settled"), soci::use(id, "id");
  if (is_settled(to)) ctx.after_commit([this, id] { waiters_.settled(id); });

  if (type == kConfirmed) {
    set_prices(ctx.sql, data, at);
  } else if (type == kRejected || type == kCancelled) {
    // An order rejected before it was priced (unknown product) carries no total: it is 0.
    const auto total = data.optional_int64("total");
    if (type == kRejected || total) {
      const long long value = total.value_or(0);
      ctx.sql << kSetTotal, soci::use(value, "total"), soci::use(id, "id");
    }
  }
}

void OrderProjection::awaiting_payment(events::HandlerContext& ctx,
                                       const contracts::order::OrderAwaitingPaymentV1& e) {
  const std::string at = event_time(ctx);
  ensure_order(ctx.sql, events::Fields::of(ctx.event.data), at);
  const long long left = e.attempts_left;
  ctx.sql << kAwaitingPayment, soci::use(e.due_at, "due"), soci::use(left, "left"),
      soci::use(e.order_id, "id"), soci::use(left, "same_left");
}

void OrderProjection::record_attempt(events::HandlerContext& ctx, const std::string& order_id,
                                     std::optional<std::int64_t> attempt,
                                     const std::string& outcome, const std::string& reason) {
  const std::string at = event_time(ctx);
  const long long number = attempt.value_or(1);
  ctx.sql << kInsertAttempt, soci::use(order_id, "id"), soci::use(number, "attempt"),
      soci::use(outcome, "outcome"), soci::use(reason, "reason"), soci::use(at, "at");
}

void OrderProjection::charged(events::HandlerContext& ctx,
                              const contracts::payment::PaymentChargedV1& e) {
  record_attempt(ctx, e.order_id, e.attempt, "CHARGED", "");
  const std::string at = event_time(ctx);
  ctx.sql << kUpsertCharged, soci::use(e.order_id, "id"), soci::use(e.amount, "amount"),
      soci::use(e.currency, "currency"), soci::use(e.payment_id, "payment"), soci::use(at, "at");
}

void OrderProjection::declined(events::HandlerContext& ctx,
                               const contracts::payment::PaymentDeclinedV1& e) {
  record_attempt(ctx, e.order_id, e.attempt, "DECLINED", e.reason);
  const std::string at = event_time(ctx);
  ctx.sql << kUpsertDeclined, soci::use(e.order_id, "id"), soci::use(e.order_id, "order_id"),
      soci::use(e.reason, "reason"), soci::use(at, "at");
}

void OrderProjection::command_rejected(events::HandlerContext& ctx,
                                       const contracts::order::OrderCommandRejectedV1& e) {
  if (!e.refund_id) return;
  ctx.sql << kRefundRefused, soci::use(e.reason, "reason"), soci::use(*e.refund_id, "refund_id");
}

void OrderProjection::refunded(events::HandlerContext& ctx,
                               const contracts::payment::PaymentRefundedV1& e) {
  if (e.refund_id) {
    const std::string at = event_time(ctx);
    const long long now = e.refunded_now.value_or(0);
    ctx.sql << kRefundPaid, soci::use(at, "at"), soci::use(now, "now"), soci::use(now, "same_now"),
        soci::use(*e.refund_id, "refund_id");
  }
  // Nothing refunded (nothing was charged): no payment to show.
  if (e.amount <= 0) return;
  const std::string at = event_time(ctx);
  const std::string payment_id = e.payment_id.value_or("");
  // The charged amount is the refund's unless the charge event was lost: the row then exists.
  ctx.sql << kUpsertRefunded, soci::use(e.order_id, "id"), soci::use(e.amount, "charged"),
      soci::use(e.amount, "amount"), soci::use(e.currency, "currency"),
      soci::use(payment_id, "payment"), soci::use(at, "at");
}

}  // namespace bazaar::edge
