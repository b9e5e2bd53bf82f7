#include "orders/order_projection.hpp"

#include <soci/soci.h>

#include <boost/json/array.hpp>

#include "events/db.hpp"
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

// Every statement here runs for the events of every order, so each is prepared once per
// connection (events::PreparedStatement): parsing and planning them cost the server more than
// running them.

// An order the edge did not post (placed straight on order.commands) gets its row here, and
// its first step with it.
const events::PreparedStatement kEnsureOrder{"edge_orders_ensure", R"sql(
WITH created AS (
  INSERT INTO orders_view (order_id, buyer_id, status, total, currency, created_at, updated_at)
  VALUES (CAST($1 AS uuid), CAST($2 AS uuid), 'PLACED', 0, $3, CAST($4 AS timestamptz),
          CAST($4 AS timestamptz))
  ON CONFLICT (order_id) DO NOTHING
  RETURNING order_id, created_at)
INSERT INTO order_steps_view (order_id, seq, at, status, previous_status)
SELECT order_id, 0, created_at, 'PLACED', 'PLACED' FROM created
ON CONFLICT DO NOTHING)sql"};

const events::PreparedStatement kLockOrder{"edge_orders_lock", R"sql(
SELECT status, COALESCE(reason, ''), CAST(payment_due_at IS NOT NULL AS integer)
FROM orders_view WHERE order_id = CAST($1 AS uuid)
FOR UPDATE)sql"};

// The lines as arrays, numbered from 0; lines past the last are removed.
const events::PreparedStatement kSetPrices{"edge_orders_prices", R"sql(
WITH totals AS (
  UPDATE orders_view SET total = CAST($2 AS bigint), currency = $3,
         updated_at = GREATEST(updated_at, CAST($4 AS timestamptz))
  WHERE order_id = CAST($1 AS uuid)),
lines AS (
  INSERT INTO order_lines_view (order_id, line_no, product_id, quantity, unit_price)
  SELECT CAST($1 AS uuid), CAST(l.no AS integer) - 1, l.product_id, l.quantity, l.price
  FROM unnest(CAST($5 AS uuid[]), CAST($6 AS bigint[]), CAST($7 AS bigint[]))
       WITH ORDINALITY AS l (product_id, quantity, price, no)
  ON CONFLICT (order_id, line_no) DO UPDATE
  SET product_id = EXCLUDED.product_id, quantity = EXCLUDED.quantity,
      unit_price = EXCLUDED.unit_price)
DELETE FROM order_lines_view
WHERE order_id = CAST($1 AS uuid) AND line_no >= cardinality(CAST($5 AS uuid[])))sql"};

// The next seq is computed in the statement; one order's events are applied one at a time
// (they share a partition), so two steps of one order never race for a number.
const events::PreparedStatement kInsertStep{"edge_orders_step", R"sql(
INSERT INTO order_steps_view (order_id, seq, at, status, previous_status, reason)
SELECT CAST($1 AS uuid), COALESCE(MAX(seq) + 1, 0), CAST($2 AS timestamptz), $3, $4,
       NULLIF($5, '')
FROM order_steps_view WHERE order_id = CAST($1 AS uuid)
ON CONFLICT DO NOTHING)sql"};

// settled_at keeps the first outcome: a later cancellation or shipment does not move it.
const events::PreparedStatement kSetStatus{"edge_orders_status", R"sql(
UPDATE orders_view SET status = $1, reason = NULLIF($2, ''),
       updated_at = GREATEST(updated_at, CAST($3 AS timestamptz)),
       settled_at = CASE WHEN $4 = '1' THEN COALESCE(settled_at, CAST($3 AS timestamptz))
                         ELSE settled_at END
WHERE order_id = CAST($5 AS uuid))sql"};

const events::PreparedStatement kSetTotal{"edge_orders_total", R"sql(
UPDATE orders_view SET total = CAST($1 AS bigint) WHERE order_id = CAST($2 AS uuid))sql"};

// A charge after a refund (a late charge refunded at once) keeps the row REFUNDED.
const events::PreparedStatement kUpsertCharged{"edge_payments_charged", R"sql(
INSERT INTO payments_view (order_id, status, amount, refunded, currency, payment_id, updated_at)
VALUES (CAST($1 AS uuid), 'CHARGED', CAST($2 AS bigint), 0, $3, CAST($4 AS uuid),
        CAST($5 AS timestamptz))
ON CONFLICT (order_id) DO UPDATE
SET amount = EXCLUDED.amount, currency = EXCLUDED.currency, payment_id = EXCLUDED.payment_id,
    status = CASE WHEN payments_view.refunded > 0 THEN 'REFUNDED' ELSE 'CHARGED' END,
    reason = NULL, updated_at = EXCLUDED.updated_at)sql"};

// A decline never overrides a charge or a refund of the same order.
const events::PreparedStatement kUpsertDeclined{"edge_payments_declined", R"sql(
INSERT INTO payments_view (order_id, status, amount, refunded, currency, reason, updated_at)
VALUES (CAST($1 AS uuid), 'DECLINED', 0, 0,
        COALESCE((SELECT currency FROM orders_view WHERE order_id = CAST($1 AS uuid)), 'EUR'),
        NULLIF($2, ''), CAST($3 AS timestamptz))
ON CONFLICT (order_id) DO UPDATE
SET reason = EXCLUDED.reason, updated_at = EXCLUDED.updated_at
WHERE payments_view.status = 'DECLINED')sql"};

// PaymentRefunded carries the order's refunded total so far, not an increment: a refund sent
// again (compensations are retried) reports the same total, which GREATEST absorbs.
// A payment partly refunded stays CHARGED; it is REFUNDED once all of it went back.
const events::PreparedStatement kUpsertRefunded{"edge_payments_refunded", R"sql(
INSERT INTO payments_view (order_id, status, amount, refunded, currency, payment_id, updated_at)
VALUES (CAST($1 AS uuid), 'REFUNDED', CAST($2 AS bigint), CAST($2 AS bigint), $3,
        CAST(NULLIF($4, '') AS uuid), CAST($5 AS timestamptz))
ON CONFLICT (order_id) DO UPDATE
SET refunded = GREATEST(payments_view.refunded, EXCLUDED.refunded),
    status = CASE WHEN GREATEST(payments_view.refunded, EXCLUDED.refunded) >= payments_view.amount
                  THEN 'REFUNDED' ELSE payments_view.status END,
    payment_id = COALESCE(payments_view.payment_id, EXCLUDED.payment_id),
    updated_at = EXCLUDED.updated_at)sql"};

// A replayed answer of an attempt keeps its first record.
const events::PreparedStatement kInsertAttempt{"edge_payments_attempt", R"sql(
INSERT INTO payment_attempts_view (order_id, attempt, outcome, reason, at)
VALUES (CAST($1 AS uuid), CAST($2 AS integer), $3, NULLIF($4, ''), CAST($5 AS timestamptz))
ON CONFLICT (order_id, attempt) DO NOTHING)sql"};

// The window only ever moves forward in attempts: a late copy of an earlier wait is ignored.
const events::PreparedStatement kAwaitingPayment{"edge_orders_awaiting_payment", R"sql(
UPDATE orders_view
SET payment_due_at = CAST($1 AS timestamptz), payment_attempts_left = CAST($2 AS integer)
WHERE order_id = CAST($3 AS uuid)
  AND (payment_attempts_left IS NULL OR payment_attempts_left >= CAST($2 AS integer))
RETURNING status)sql"};

// An admin refund's answer; a repeat (refunded_now 0) keeps what the first said.
const events::PreparedStatement kRefundPaid{"edge_refunds_paid", R"sql(
UPDATE refunds_view SET status = 'REFUNDED', refunded_at = CAST($1 AS timestamptz),
       amount = CASE WHEN CAST($2 AS bigint) > 0 THEN CAST($2 AS bigint) ELSE amount END
WHERE refund_id = CAST($3 AS uuid) AND status <> 'REFUNDED')sql"};

const events::PreparedStatement kRefundRefused{"edge_refunds_refused", R"sql(
UPDATE refunds_view SET status = 'REFUSED', refusal = $1
WHERE refund_id = CAST($2 AS uuid) AND status = 'REQUESTED')sql"};

// The event's own time: replays and rebuilds keep the saga's real timeline.
std::string event_time(const events::HandlerContext& ctx) {
  const auto t = events::parse_rfc3339(ctx.event.time);
  return events::format_rfc3339(t.value_or(ctx.clock.now()));
}

void ensure_order(soci::session& sql, const events::Fields& data, const std::string& at) {
  const std::string id = data.string("order_id");
  const std::string buyer = data.string("buyer_id");
  const std::string currency = data.optional_string("currency").value_or("EUR");
  kEnsureOrder.run(sql, {&id, &buyer, &currency, &at});
}

// Captured prices (OrderPlaced, OrderConfirmed) replace the preview of the posting.
void set_prices(soci::session& sql, const events::Fields& data, const std::string& at) {
  const std::string id = data.string("order_id");
  const std::string total = std::to_string(data.int64("total"));
  const std::string currency = data.string("currency");
  const auto& lines = data.array("lines");
  std::vector<std::string> products;
  std::vector<long long> quantities;
  std::vector<long long> prices;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto line = events::Fields::item(lines, i, data.path_of("lines"));
    products.push_back(line.string("product_id"));
    quantities.push_back(line.int64("quantity"));
    prices.push_back(line.int64("unit_price"));
  }
  const std::string product_array = events::pg_text_array(products);
  const std::string quantity_array = events::pg_int_array(quantities);
  const std::string price_array = events::pg_int_array(prices);
  kSetPrices.run(sql, {&id, &total, &currency, &at, &product_array, &quantity_array, &price_array});
}

void insert_step(soci::session& sql, const std::string& order_id, const std::string& at,
                 const std::string& status, const std::string& previous,
                 const std::string& reason) {
  kInsertStep.run(sql, {&order_id, &at, &status, &previous, &reason});
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
  const events::PreparedRows locked = kLockOrder.query(ctx.sql, {&id});
  const std::string from = locked.empty() ? std::string{} : locked.text(0, 0);
  const std::string current_reason = locked.empty() ? std::string{} : locked.text(0, 1);
  const bool window_open = !locked.empty() && locked.integer(0, 2) != 0;

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
  const std::string outcome = is_outcome(to) ? "1" : "0";
  kSetStatus.run(ctx.sql, {&to, &reason, &at, &outcome, &id});
  // The order service announces a payment window before the status that waits in it.
  if (answers_wait(to, window_open)) wake_waiters(ctx, id);

  if (type == kConfirmed) {
    set_prices(ctx.sql, data, at);
  } else if (type == kRejected || type == kCancelled) {
    // An order rejected before it was priced (unknown product) carries no total: it is 0.
    const auto total = data.optional_int64("total");
    if (type == kRejected || total) {
      const std::string value = std::to_string(total.value_or(0));
      kSetTotal.run(ctx.sql, {&value, &id});
    }
  }
}

void OrderProjection::awaiting_payment(events::HandlerContext& ctx,
                                       const contracts::order::OrderAwaitingPaymentV1& e) {
  const std::string at = event_time(ctx);
  ensure_order(ctx.sql, events::Fields::of(ctx.event.data), at);
  const std::string left = std::to_string(e.attempts_left);
  const events::PreparedRows waiting =
      kAwaitingPayment.query(ctx.sql, {&e.due_at, &left, &e.order_id});
  // Declined with attempts left: the status stays, and the window is what answers a waiter.
  if (!waiting.empty() && answers_wait(waiting.text(0, 0), true)) wake_waiters(ctx, e.order_id);
}

void OrderProjection::wake_waiters(events::HandlerContext& ctx, const std::string& order_id) {
  ctx.after_commit([this, order_id] { waiters_.answered(order_id); });
}

void OrderProjection::record_attempt(events::HandlerContext& ctx, const std::string& order_id,
                                     std::optional<std::int64_t> attempt,
                                     const std::string& outcome, const std::string& reason) {
  const std::string at = event_time(ctx);
  const std::string number = std::to_string(attempt.value_or(1));
  kInsertAttempt.run(ctx.sql, {&order_id, &number, &outcome, &reason, &at});
}

void OrderProjection::charged(events::HandlerContext& ctx,
                              const contracts::payment::PaymentChargedV1& e) {
  record_attempt(ctx, e.order_id, e.attempt, "CHARGED", "");
  const std::string at = event_time(ctx);
  const std::string amount = std::to_string(e.amount);
  kUpsertCharged.run(ctx.sql, {&e.order_id, &amount, &e.currency, &e.payment_id, &at});
}

void OrderProjection::declined(events::HandlerContext& ctx,
                               const contracts::payment::PaymentDeclinedV1& e) {
  record_attempt(ctx, e.order_id, e.attempt, "DECLINED", e.reason);
  const std::string at = event_time(ctx);
  kUpsertDeclined.run(ctx.sql, {&e.order_id, &e.reason, &at});
}

void OrderProjection::command_rejected(events::HandlerContext& ctx,
                                       const contracts::order::OrderCommandRejectedV1& e) {
  if (!e.refund_id) return;
  kRefundRefused.run(ctx.sql, {&e.reason, &*e.refund_id});
}

void OrderProjection::refunded(events::HandlerContext& ctx,
                               const contracts::payment::PaymentRefundedV1& e) {
  if (e.refund_id) {
    const std::string at = event_time(ctx);
    const std::string now = std::to_string(e.refunded_now.value_or(0));
    kRefundPaid.run(ctx.sql, {&at, &now, &*e.refund_id});
  }
  // Nothing refunded (nothing was charged): no payment to show.
  if (e.amount <= 0) return;
  const std::string at = event_time(ctx);
  const std::string payment_id = e.payment_id.value_or("");
  // The charged amount is the refund's unless the charge event was lost: the row then exists.
  const std::string amount = std::to_string(e.amount);
  kUpsertRefunded.run(ctx.sql, {&e.order_id, &amount, &e.currency, &payment_id, &at});
}

}  // namespace bazaar::edge
