#include "payment_handler.hpp"

#include <soci/soci.h>

#include <algorithm>
#include <optional>
#include <stdexcept>

#include "events/envelope.hpp"
#include "payment_state.hpp"

namespace bazaar::payment {
namespace {

using contracts::payment::PaymentChargedV1;
using contracts::payment::PaymentDeclinedV1;
using contracts::payment::PaymentRefundedV1;
using contracts::topic::kPaymentEvents;

constexpr const char* kOrderCancelled = "order_cancelled";

// The row is created first so that the SELECT ... FOR UPDATE below always has a row to lock:
// two instances handling one order (during a rebalance) then queue on it instead of racing.
constexpr const char* kEnsurePayment = R"sql(
INSERT INTO payments (order_id, status, amount, currency)
VALUES (CAST(:order_id AS uuid), :status, :amount, :currency)
ON CONFLICT (order_id) DO NOTHING)sql";

constexpr const char* kLockPayment = R"sql(
SELECT status, COALESCE(payment_id::text, ''), amount, currency, charged_amount,
       refunded_amount, COALESCE(decline_reason, ''), last_attempt
FROM payments
WHERE order_id = CAST(:order_id AS uuid)
FOR UPDATE)sql";

constexpr const char* kRecordCharged = R"sql(
UPDATE payments
SET status = 'CHARGED', payment_id = CAST(:payment_id AS uuid), amount = :amount,
    currency = :currency, charged_amount = :charged, attempts = attempts + 1,
    last_attempt = :attempt, decline_reason = NULL, charged_at = now(), updated_at = now()
WHERE order_id = CAST(:order_id AS uuid))sql";

constexpr const char* kRecordUncharged = R"sql(
UPDATE payments
SET status = :status, amount = :amount, currency = :currency,
    decline_reason = NULLIF(:reason, ''), attempts = attempts + 1, last_attempt = :attempt,
    updated_at = now()
WHERE order_id = CAST(:order_id AS uuid))sql";

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
  sql << kEnsurePayment, soci::use(order_id, "order_id"), soci::use(status, "status"),
      soci::use(amount, "amount"), soci::use(currency, "currency");
  PaymentRow row;
  std::string stored_status;
  sql << kLockPayment, soci::use(order_id, "order_id"), soci::into(stored_status),
      soci::into(row.payment_id), soci::into(row.amount), soci::into(row.currency),
      soci::into(row.charged), soci::into(row.refunded), soci::into(row.decline_reason),
      soci::into(row.last_attempt);
  const auto parsed = parse_status(stored_status);
  if (!sql.got_data() || !parsed) {
    throw std::logic_error("payment of " + order_id + " unreadable: status " + stored_status);
  }
  row.status = *parsed;
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
    ctx.sql << kRecordCharged, soci::use(payment_id, "payment_id"), soci::use(cmd.amount, "amount"),
        soci::use(cmd.currency, "currency"), soci::use(cmd.amount, "charged"),
        soci::use(attempt, "attempt"), soci::use(order_id, "order_id");
    ctx.emit(kPaymentEvents, order_id,
             PaymentChargedV1{.order_id = order_id,
                              .payment_id = payment_id,
                              .amount = cmd.amount,
                              .currency = cmd.currency,
                              .attempt = attempt});
    return;
  }
  const std::string status_name(to_string(*status));
  ctx.sql << kRecordUncharged, soci::use(status_name, "status"), soci::use(cmd.amount, "amount"),
      soci::use(cmd.currency, "currency"), soci::use(outcome.reason, "reason"),
      soci::use(attempt, "attempt"), soci::use(order_id, "order_id");
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
