#include "payment_handler.hpp"

#include <soci/soci.h>

#include <boost/json/object.hpp>
#include <optional>
#include <stdexcept>

#include "events/envelope.hpp"
#include "events/outbox.hpp"
#include "payment_state.hpp"

namespace bazaar::payment {
namespace {

constexpr const char* kEventsTopic = "payment.events";
constexpr const char* kChargePayment = "bazaar.payment.ChargePayment.v1";
constexpr const char* kRefundPayment = "bazaar.payment.RefundPayment.v1";
constexpr const char* kPaymentCharged = "bazaar.payment.PaymentCharged.v1";
constexpr const char* kPaymentDeclined = "bazaar.payment.PaymentDeclined.v1";
constexpr const char* kPaymentRefunded = "bazaar.payment.PaymentRefunded.v1";

constexpr const char* kOrderCancelled = "order_cancelled";

// The row is created first so that the SELECT ... FOR UPDATE below always has a row to lock:
// two instances handling one order (during a rebalance) then queue on it instead of racing.
constexpr const char* kEnsurePayment = R"sql(
INSERT INTO payments (order_id, status, amount, currency)
VALUES (CAST(:order_id AS uuid), :status, :amount, :currency)
ON CONFLICT (order_id) DO NOTHING)sql";

constexpr const char* kLockPayment = R"sql(
SELECT status, COALESCE(payment_id::text, ''), amount, currency, charged_amount,
       refunded_amount, COALESCE(decline_reason, '')
FROM payments
WHERE order_id = CAST(:order_id AS uuid)
FOR UPDATE)sql";

constexpr const char* kRecordCharged = R"sql(
UPDATE payments
SET status = 'CHARGED', payment_id = CAST(:payment_id AS uuid), amount = :amount,
    currency = :currency, charged_amount = :charged, attempts = attempts + 1,
    charged_at = now(), updated_at = now()
WHERE order_id = CAST(:order_id AS uuid))sql";

constexpr const char* kRecordUncharged = R"sql(
UPDATE payments
SET status = :status, amount = :amount, currency = :currency,
    decline_reason = NULLIF(:reason, ''), attempts = attempts + 1, updated_at = now()
WHERE order_id = CAST(:order_id AS uuid))sql";

constexpr const char* kRecordRefunded = R"sql(
UPDATE payments
SET status = 'REFUNDED', refunded_amount = :refunded, refunded_at = now(), updated_at = now()
WHERE order_id = CAST(:order_id AS uuid))sql";

constexpr const char* kInsertRefund = R"sql(
INSERT INTO refunds (order_id, payment_id, amount, reason)
VALUES (CAST(:order_id AS uuid), CAST(:payment_id AS uuid), :amount, NULLIF(:reason, '')))sql";

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
};

std::string text(const boost::json::object& data, const char* key) {
  const auto* v = data.if_contains(key);
  if (v == nullptr || !v->is_string()) return {};
  return std::string(v->get_string());
}

// Inserts the order's row unless it exists, then locks and reads it.
PaymentRow ensure_and_lock(soci::session& sql, const std::string& order_id, PaymentStatus initial,
                           long long amount, const std::string& currency) {
  std::string id = order_id;
  std::string status(to_string(initial));
  long long new_amount = amount;
  std::string new_currency = currency;
  sql << kEnsurePayment, soci::use(id, "order_id"), soci::use(status, "status"),
      soci::use(new_amount, "amount"), soci::use(new_currency, "currency");
  PaymentRow row;
  std::string stored_status;
  sql << kLockPayment, soci::use(id, "order_id"), soci::into(stored_status),
      soci::into(row.payment_id), soci::into(row.amount), soci::into(row.currency),
      soci::into(row.charged), soci::into(row.refunded), soci::into(row.decline_reason);
  const auto parsed = parse_status(stored_status);
  if (!sql.got_data() || !parsed) {
    throw std::logic_error("payment of " + order_id + " unreadable: status " + stored_status);
  }
  row.status = *parsed;
  return row;
}

void emit(events::HandlerContext& ctx, const char* type, const std::string& order_id,
          boost::json::object payload) {
  ctx.outbox.add(kEventsTopic, ctx.factory.make(type, order_id, std::move(payload), &ctx.event));
}

boost::json::object charged(const std::string& order_id, const std::string& payment_id,
                            long long amount, const std::string& currency) {
  return {{"order_id", order_id},
          {"payment_id", payment_id},
          {"amount", amount},
          {"currency", currency}};
}

boost::json::object declined(const std::string& order_id, const std::string& reason) {
  return {{"order_id", order_id}, {"reason", reason}};
}

}  // namespace

bool PaymentHandler::wants(const std::string& type) const {
  return type == kChargePayment || type == kRefundPayment;
}

void PaymentHandler::apply(events::HandlerContext& ctx) {
  if (ctx.event.type == kChargePayment) return charge(ctx);
  if (ctx.event.type == kRefundPayment) return refund(ctx);
}

void PaymentHandler::charge(events::HandlerContext& ctx) {
  const auto& data = ctx.event.data.as_object();
  std::string order_id = text(data, "order_id");
  std::string currency = text(data, "currency");
  const std::string token = text(data, "payment_token");
  long long amount = 0;
  try {
    amount = data.at("amount").to_number<long long>();
  } catch (const std::exception&) {
    throw events::PermanentError("amount is not a 64-bit integer");
  }

  const PaymentRow row =
      ensure_and_lock(ctx.sql, order_id, PaymentStatus::pending, amount, currency);
  switch (decide_charge(row.status)) {
    case ChargeStep::repeat_charged:
      emit(ctx, kPaymentCharged, order_id,
           charged(order_id, row.payment_id, row.charged, row.currency));
      return;
    case ChargeStep::repeat_declined:
      emit(ctx, kPaymentDeclined, order_id, declined(order_id, row.decline_reason));
      return;
    case ChargeStep::refuse_cancelled:
      emit(ctx, kPaymentDeclined, order_id, declined(order_id, kOrderCancelled));
      return;
    case ChargeStep::call_provider:
      break;
  }

  const ChargeOutcome outcome = provider_.charge(order_id, amount, currency, token);
  const auto status = status_after(outcome.result);
  // Rolling back also drops the row made above: the retry starts from scratch, and the
  // provider's idempotency per order keeps it from charging twice.
  if (!status) throw events::TransientError("payment provider: " + outcome.reason);
  if (*status == PaymentStatus::charged) {
    std::string payment_id = ids_.next().str();
    long long charged_amount = amount;
    ctx.sql << kRecordCharged, soci::use(payment_id, "payment_id"), soci::use(amount, "amount"),
        soci::use(currency, "currency"), soci::use(charged_amount, "charged"),
        soci::use(order_id, "order_id");
    emit(ctx, kPaymentCharged, order_id, charged(order_id, payment_id, amount, currency));
    return;
  }
  std::string status_name(to_string(*status));
  std::string reason = outcome.reason;
  ctx.sql << kRecordUncharged, soci::use(status_name, "status"), soci::use(amount, "amount"),
      soci::use(currency, "currency"), soci::use(reason, "reason"), soci::use(order_id, "order_id");
  // No answer emits nothing: the saga's deadline decides what happens to the order.
  if (*status == PaymentStatus::declined) {
    emit(ctx, kPaymentDeclined, order_id, declined(order_id, reason));
  }
}

void PaymentHandler::refund(events::HandlerContext& ctx) {
  const auto& data = ctx.event.data.as_object();
  std::string order_id = text(data, "order_id");
  std::string reason = text(data, "reason");

  const PaymentRow row =
      ensure_and_lock(ctx.sql, order_id, PaymentStatus::voided, 0, default_currency_);
  const RefundStep step = decide_refund(row.status, row.charged, row.refunded);
  if (step.refunds_now) {
    long long refunded = step.refunded_total;
    long long amount = step.amount;
    std::string payment_id = row.payment_id;
    ctx.sql << kRecordRefunded, soci::use(refunded, "refunded"), soci::use(order_id, "order_id");
    ctx.sql << kInsertRefund, soci::use(order_id, "order_id"), soci::use(payment_id, "payment_id"),
        soci::use(amount, "amount"), soci::use(reason, "reason");
  } else if (step.status != row.status) {
    ctx.sql << kRecordVoided, soci::use(order_id, "order_id");
  }
  boost::json::object payload{
      {"order_id", order_id}, {"amount", step.refunded_total}, {"currency", row.currency}};
  if (!row.payment_id.empty()) payload["payment_id"] = row.payment_id;
  emit(ctx, kPaymentRefunded, order_id, std::move(payload));
}

}  // namespace bazaar::payment
