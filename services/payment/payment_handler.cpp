#include "payment_handler.hpp"

#include <soci/soci.h>

#include <algorithm>
#include <optional>
#include <stdexcept>

#include "events/db.hpp"
#include "events/envelope.hpp"
#include "payment_state.hpp"

namespace bazaar::payment {
namespace {

using contracts::payment::PaymentChargedV1;
using contracts::payment::PaymentDeclinedV1;
using contracts::payment::PaymentRefundedV1;
using contracts::topic::kPaymentEvents;

constexpr const char* kOrderCancelled = "order_cancelled";

// Every charge runs these: prepared once per connection (events::PreparedStatement).
// The row is created first so that the SELECT ... FOR UPDATE below always has a row to lock:
// two instances handling one order (during a rebalance) then queue on it instead of racing.
const events::PreparedStatement kEnsurePayment{"payment_ensure", R"sql(
INSERT INTO payments (order_id, status, amount, currency)
VALUES (CAST($1 AS uuid), $2, CAST($3 AS bigint), $4)
ON CONFLICT (order_id) DO NOTHING)sql"};

const events::PreparedStatement kLockPayment{"payment_lock", R"sql(
SELECT status, COALESCE(payment_id::text, ''), amount, currency, charged_amount,
       refunded_amount, COALESCE(decline_reason, ''), last_attempt
FROM payments
WHERE order_id = CAST($1 AS uuid)
FOR UPDATE)sql"};

const events::PreparedStatement kRecordCharged{"payment_record_charged", R"sql(
UPDATE payments
SET status = 'CHARGED', payment_id = CAST($1 AS uuid), amount = CAST($2 AS bigint),
    currency = $3, charged_amount = CAST($2 AS bigint), attempts = attempts + 1,
    last_attempt = CAST($4 AS integer), decline_reason = NULL, charged_at = now(),
    updated_at = now()
WHERE order_id = CAST($5 AS uuid))sql"};

const events::PreparedStatement kRecordUncharged{"payment_record_uncharged", R"sql(
UPDATE payments
SET status = $1, amount = CAST($2 AS bigint), currency = $3, decline_reason = NULLIF($4, ''),
    attempts = attempts + 1, last_attempt = CAST($5 AS integer), updated_at = now()
WHERE order_id = CAST($6 AS uuid))sql"};

constexpr const char* kRecordRefunded = R"sql(
UPDATE payments
SET status = :status, refunded_amount = :refunded, refunded_at = now(), updated_at = now()
WHERE order_id = CAST(:order_id AS uuid))sql";

constexpr const char* kInsertRefund = R"sql(
INSERT INTO refunds (refund_id, order_id, payment_id, amount, reason)
VALUES (CAST(:refund_id AS uuid), CAST(:order_id AS uuid), CAST(:payment_id AS uuid), :amount,
        NULLIF(:reason, '')))sql";

// An admin refund already paid out: the same refund asked again.
constexpr const char* kFindRefund =
    "SELECT amount FROM refunds WHERE refund_id = CAST(:refund_id AS uuid)";

constexpr const char* kRecordVoided = R"sql(
UPDATE payments SET status = 'VOIDED', updated_at = now()
WHERE order_id = CAST(:order_id AS uuid))sql";

struct PaymentRow {
  PaymentStatus status = PaymentStatus::pending;
  std::string payment_id;
  long long amount = 0;
  std::string currency;
  long long charged = 0;
  long long refunded = 0;
  std::string decline_reason;
  int last_attempt = 1;
};

// Inserts the order's row unless it exists, then locks and reads it.
PaymentRow ensure_and_lock(soci::session& sql, const std::string& order_id, PaymentStatus initial,
                           long long amount, const std::string& currency) {
  const std::string status(to_string(initial));
  const std::string value = std::to_string(amount);
  kEnsurePayment.run(sql, {&order_id, &status, &value, &currency});
  const events::PreparedRows locked = kLockPayment.query(sql, {&order_id});
  const std::string stored_status = locked.empty() ? std::string{} : locked.text(0, 0);
  const auto parsed = parse_status(stored_status);
  if (locked.empty() || !parsed) {
    throw std::logic_error("payment of " + order_id + " unreadable: status " + stored_status);
  }
  PaymentRow row;
  row.status = *parsed;
  row.payment_id = locked.text(0, 1);
  row.amount = locked.integer(0, 2);
  row.currency = locked.text(0, 3);
  row.charged = locked.integer(0, 4);
  row.refunded = locked.integer(0, 5);
  row.decline_reason = locked.text(0, 6);
  row.last_attempt = static_cast<int>(locked.integer(0, 7));
  return row;
}

void emit_declined(events::HandlerContext& ctx, const std::string& order_id,
                   const std::string& reason, int attempt) {
  ctx.emit(kPaymentEvents, order_id,
           PaymentDeclinedV1{.order_id = order_id, .reason = reason, .attempt = attempt});
}

}  // namespace

void PaymentHandler::charge(events::HandlerContext& ctx,
                            const contracts::payment::ChargePaymentV1& cmd) {
  const std::string& order_id = cmd.order_id;
  const int attempt = static_cast<int>(cmd.attempt.value_or(1));
  const PaymentRow row =
      ensure_and_lock(ctx.sql, order_id, PaymentStatus::pending, cmd.amount, cmd.currency);
  switch (decide_charge(row.status, row.last_attempt, attempt)) {
    case ChargeStep::repeat_charged:
      ctx.emit(kPaymentEvents, order_id,
               PaymentChargedV1{.order_id = order_id,
                                .payment_id = row.payment_id,
                                .amount = row.charged,
                                .currency = row.currency,
                                .attempt = row.last_attempt});
      return;
    case ChargeStep::repeat_declined:
      emit_declined(ctx, order_id, row.decline_reason, std::min(attempt, row.last_attempt));
      return;
    case ChargeStep::refuse_cancelled:
      emit_declined(ctx, order_id, kOrderCancelled, attempt);
      return;
    case ChargeStep::call_provider:
      break;
  }

  const ChargeOutcome outcome =
      provider_.charge(order_id, cmd.amount, cmd.currency, cmd.payment_token);
  const auto status = status_after(outcome.result);
  // Rolling back also drops the row made above: the retry starts from scratch, and the
  // provider's idempotency per order keeps it from charging twice.
  if (!status) throw events::TransientError("payment provider: " + outcome.reason);
  if (*status == PaymentStatus::charged) {
    const std::string payment_id = ids_.next().str();
    const std::string amount = std::to_string(cmd.amount);
    const std::string attempt_no = std::to_string(attempt);
    kRecordCharged.run(ctx.sql, {&payment_id, &amount, &cmd.currency, &attempt_no, &order_id});
    ctx.emit(kPaymentEvents, order_id,
             PaymentChargedV1{.order_id = order_id,
                              .payment_id = payment_id,
                              .amount = cmd.amount,
                              .currency = cmd.currency,
                              .attempt = attempt});
    return;
  }
  const std::string status_name(to_string(*status));
  const std::string amount = std::to_string(cmd.amount);
  const std::string attempt_no = std::to_string(attempt);
  kRecordUncharged.run(
      ctx.sql, {&status_name, &amount, &cmd.currency, &outcome.reason, &attempt_no, &order_id});
  // No answer emits nothing: the saga's deadline decides what happens to the order.
  if (*status == PaymentStatus::declined) emit_declined(ctx, order_id, outcome.reason, attempt);
}

void PaymentHandler::refund(events::HandlerContext& ctx,
                            const contracts::payment::RefundPaymentV1& cmd) {
  const std::string& order_id = cmd.order_id;
  const std::string reason = cmd.reason.value_or("");
  const PaymentRow row =
      ensure_and_lock(ctx.sql, order_id, PaymentStatus::voided, 0, default_currency_);
  PaymentRefundedV1 refunded{.order_id = order_id,
                             .payment_id = std::nullopt,
                             .amount = row.refunded,
                             .currency = row.currency,
                             .refunded_now = 0,
                             .refund_id = cmd.refund_id,
                             .reason = cmd.reason};
  if (!row.payment_id.empty()) refunded.payment_id = row.payment_id;
  if (cmd.refund_id) {
    long long paid_before = 0;
    ctx.sql << kFindRefund, soci::use(*cmd.refund_id, "refund_id"), soci::into(paid_before);
    if (ctx.sql.got_data()) {  // answered again, nothing given twice
      ctx.emit(kPaymentEvents, order_id, refunded);
      return;
    }
  }
  const RefundStep step = decide_refund(row.status, row.charged, row.refunded, cmd.amount);
  if (step.refunds_now) {
    const std::string status(to_string(step.status));
    const std::string refund_id = cmd.refund_id.value_or(ids_.next().str());
    ctx.sql << kRecordRefunded, soci::use(status, "status"),
        soci::use(step.refunded_total, "refunded"), soci::use(order_id, "order_id");
    ctx.sql << kInsertRefund, soci::use(refund_id, "refund_id"), soci::use(order_id, "order_id"),
        soci::use(row.payment_id, "payment_id"), soci::use(step.amount, "amount"),
        soci::use(reason, "reason");
  } else if (step.status != row.status) {
    ctx.sql << kRecordVoided, soci::use(order_id, "order_id");
  }
  refunded.amount = step.refunded_total;
  refunded.refunded_now = step.amount;
  ctx.emit(kPaymentEvents, order_id, refunded);
}

}  // namespace bazaar::payment
