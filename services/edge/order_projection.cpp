#include "order_projection.hpp"

#include <soci/soci.h>

#include <boost/json/array.hpp>
#include <set>

#include "events/envelope.hpp"
#include "events/json_fields.hpp"
#include "order_view.hpp"

namespace bazaar::edge {
namespace {

using events::required_int;
using events::required_string;
using events::string_or_empty;

constexpr const char* kOrderPlaced = "bazaar.order.OrderPlaced.v1";
constexpr const char* kStatusChanged = "bazaar.order.OrderStatusChanged.v1";
constexpr const char* kConfirmed = "bazaar.order.OrderConfirmed.v1";
constexpr const char* kRejected = "bazaar.order.OrderRejected.v1";
constexpr const char* kCancelled = "bazaar.order.OrderCancelled.v1";
constexpr const char* kCharged = "bazaar.payment.PaymentCharged.v1";
constexpr const char* kDeclined = "bazaar.payment.PaymentDeclined.v1";
constexpr const char* kRefunded = "bazaar.payment.PaymentRefunded.v1";

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
constexpr const char* kUpsertRefunded = R"sql(
INSERT INTO payments_view (order_id, status, amount, refunded, currency, payment_id, updated_at)
VALUES (CAST(:id AS uuid), 'REFUNDED', :charged, :amount, :currency,
        CAST(NULLIF(:payment, '') AS uuid), CAST(:at AS timestamptz))
ON CONFLICT (order_id) DO UPDATE
SET refunded = GREATEST(payments_view.refunded, EXCLUDED.refunded), status = 'REFUNDED',
    payment_id = COALESCE(payments_view.payment_id, EXCLUDED.payment_id),
    updated_at = EXCLUDED.updated_at)sql";

const std::set<std::string, std::less<>> kStatusEvents{kStatusChanged, kConfirmed, kRejected,
                                                       kCancelled};

// The event's own time: replays and rebuilds keep the saga's real timeline.
std::string event_time(const events::HandlerContext& ctx) {
  const auto t = events::parse_rfc3339(ctx.event.time);
  return events::format_rfc3339(t.value_or(ctx.clock.now()));
}

void ensure_order(soci::session& sql, const boost::json::object& data, const std::string& at) {
  std::string id = required_string(data, "order_id");
  std::string buyer = required_string(data, "buyer_id");
  std::string currency = string_or_empty(data, "currency");
  if (currency.empty()) currency = "EUR";
  std::string created = at;
  std::string updated = at;
  soci::statement insert = (sql.prepare << kEnsureOrder, soci::use(id, "id"),
                            soci::use(buyer, "buyer"), soci::use(currency, "currency"),
                            soci::use(created, "created"), soci::use(updated, "updated"));
  insert.execute(true);
  if (insert.get_affected_rows() == 1) sql << kPlacedStep, soci::use(id, "id");
}

// Captured prices (OrderPlaced, OrderConfirmed) replace the preview of the posting.
void set_prices(soci::session& sql, const boost::json::object& data, const std::string& at) {
  std::string id = required_string(data, "order_id");
  long long total = required_int(data, "total");
  std::string currency = required_string(data, "currency");
  std::string stamp = at;
  sql << kSetPrices, soci::use(total, "total"), soci::use(currency, "currency"),
      soci::use(stamp, "at"), soci::use(id, "id");
  int no = 0;
  for (const auto& value : data.at("lines").as_array()) {
    const auto& line = value.as_object();
    std::string product = required_string(line, "product_id");
    long long quantity = required_int(line, "quantity");
    long long price = required_int(line, "unit_price");
    sql << kUpsertLine, soci::use(id, "id"), soci::use(no, "no"), soci::use(product, "product"),
        soci::use(quantity, "quantity"), soci::use(price, "price");
    ++no;
  }
  sql << kTrimLines, soci::use(id, "id"), soci::use(no, "n");
}

void insert_step(soci::session& sql, const std::string& order_id, const std::string& at,
                 const std::string& status, const std::string& previous,
                 const std::string& reason) {
  std::string id = order_id;
  std::string same_id = order_id;
  std::string stamp = at;
  std::string to = status;
  std::string from = previous;
  std::string why = reason;
  sql << kInsertStep, soci::use(id, "id"), soci::use(stamp, "at"), soci::use(to, "status"),
      soci::use(from, "previous"), soci::use(why, "reason"), soci::use(same_id, "same_id");
}

}  // namespace

bool OrderProjection::wants(const std::string& type) const {
  return type == kOrderPlaced || kStatusEvents.contains(type) || type == kCharged ||
         type == kDeclined || type == kRefunded;
}

void OrderProjection::apply(events::HandlerContext& ctx) {
  const std::string at = event_time(ctx);
  if (ctx.event.type == kOrderPlaced) return placed(ctx, at);
  if (kStatusEvents.contains(ctx.event.type)) return status(ctx, at);
  payment(ctx, at);
}

void OrderProjection::placed(events::HandlerContext& ctx, const std::string& at) {
  const auto& data = ctx.event.data.as_object();
  ensure_order(ctx.sql, data, at);
  set_prices(ctx.sql, data, at);
}

void OrderProjection::status(events::HandlerContext& ctx, const std::string& at) {
  const auto& data = ctx.event.data.as_object();
  const std::string& type = ctx.event.type;
  ensure_order(ctx.sql, data, at);

  std::string id = required_string(data, "order_id");
  std::string from;
  std::string current_reason;
  ctx.sql << kLockOrder, soci::use(id, "id"), soci::into(from), soci::into(current_reason);

  std::string to = type == kStatusChanged ? required_string(data, "status")
                   : type == kConfirmed   ? "CONFIRMED"
                   : type == kRejected    ? "REJECTED"
                                          : "CANCELLED";
  std::string reason = string_or_empty(data, "reason");

  // A status change is history even when it arrives late; the step table keeps each edge once.
  if (type == kStatusChanged) {
    insert_step(ctx.sql, id, at, to, required_string(data, "previous_status"), reason);
  } else if (from != to && may_move(from, to)) {
    // An outcome with no status change before it (an order the order service could not price).
    insert_step(ctx.sql, id, at, to, from, reason);
  }
  if (!may_move(from, to)) return;

  if (from == to && reason.empty()) reason = current_reason;
  int outcome = is_outcome(to) ? 1 : 0;
  std::string stamp = at;
  std::string settled = at;
  ctx.sql << kSetStatus, soci::use(to, "status"), soci::use(reason, "reason"),
      soci::use(stamp, "at"), soci::use(outcome, "outcome"), soci::use(settled, "settled"),
      soci::use(id, "id");

  if (type == kConfirmed) {
    set_prices(ctx.sql, data, at);
  } else if (type == kRejected || type == kCancelled) {
    // An order rejected before it was priced (unknown product) carries no total: it is 0.
    if (type == kRejected || data.contains("total")) {
      long long total = data.contains("total") ? required_int(data, "total") : 0;
      ctx.sql << kSetTotal, soci::use(total, "total"), soci::use(id, "id");
    }
  }
}

void OrderProjection::payment(events::HandlerContext& ctx, const std::string& at) {
  const auto& data = ctx.event.data.as_object();
  std::string id = required_string(data, "order_id");
  std::string stamp = at;
  if (ctx.event.type == kCharged) {
    long long amount = required_int(data, "amount");
    std::string currency = required_string(data, "currency");
    std::string payment_id = required_string(data, "payment_id");
    ctx.sql << kUpsertCharged, soci::use(id, "id"), soci::use(amount, "amount"),
        soci::use(currency, "currency"), soci::use(payment_id, "payment"), soci::use(stamp, "at");
  } else if (ctx.event.type == kDeclined) {
    std::string order_id = id;
    std::string reason = string_or_empty(data, "reason");
    ctx.sql << kUpsertDeclined, soci::use(id, "id"), soci::use(order_id, "order_id"),
        soci::use(reason, "reason"), soci::use(stamp, "at");
  } else {
    long long amount = required_int(data, "amount");
    // Nothing refunded (nothing was charged): no payment to show.
    if (amount <= 0) return;
    long long charged = amount;  // the row exists unless the charge event was lost
    std::string currency = required_string(data, "currency");
    std::string payment_id = string_or_empty(data, "payment_id");
    ctx.sql << kUpsertRefunded, soci::use(id, "id"), soci::use(charged, "charged"),
        soci::use(amount, "amount"), soci::use(currency, "currency"),
        soci::use(payment_id, "payment"), soci::use(stamp, "at");
  }
}

}  // namespace bazaar::edge
