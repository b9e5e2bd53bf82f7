#include "payment_handler.hpp"

#include <soci/soci.h>

#include <algorithm>
#include <optional>
#include <stdexcept>

#include "events/db.hpp"
#include "events/envelope.hpp"
#include "events/fields.hpp"
#include "payment_state.hpp"

namespace bazaar::payment {
namespace {

using contracts::payment::PaymentChargedV1;
using contracts::payment::PaymentDeclinedV1;
using contracts::payment::PaymentRefundedV1;
using contracts::topic::kPaymentEvents;

constexpr const char* kOrderCancelled = "order_cancelled";

constexpr const char* kInsertRefund = R"sql(
INSERT INTO refunds (refund_id, order_id, payment_id, amount, reason)
VALUES (CAST(:refund_id AS uuid), CAST(:order_id AS uuid), CAST(:payment_id AS uuid), :amount,
        NULLIF(:reason, '')))sql";

// An admin refund already paid out: the same refund asked again.
constexpr const char* kFindRefund =
    "SELECT amount FROM refunds WHERE refund_id = CAST(:refund_id AS uuid)";

void emit_declined(events::HandlerContext& ctx, const std::string& order_id,
                   const std::string& reason, int attempt) {
  ctx.emit(kPaymentEvents, order_id,
           PaymentDeclinedV1{.order_id = order_id, .reason = reason, .attempt = attempt});
}

}  // namespace

void PaymentHandler::lock_ahead(soci::session& sql,
                                const std::vector<const events::Envelope*>& batch) {
  std::vector<PaymentBook::Initial> wanted;
  for (const auto* e : batch) {
    const auto* data = e->data.if_object();
    if (data == nullptr) continue;
    auto id = events::uuid_at(*data, "order_id");
    if (!id) continue;
    if (e->type == contracts::payment::ChargePaymentV1::kType) {
      const auto* amount = data->if_contains("amount");
      const auto* currency = data->if_contains("currency");
      if (amount == nullptr || !amount->is_int64() || currency == nullptr ||
          !currency->is_string()) {
        continue;  // its own record fails on it, one by one
      }
      wanted.push_back({std::move(*id), PaymentStatus::pending, amount->as_int64(),
                        std::string(currency->as_string())});
    } else if (e->type == contracts::payment::RefundPaymentV1::kType) {
      wanted.push_back({std::move(*id), PaymentStatus::voided, 0, default_currency_});
    }
  }
  book_.lock(sql, wanted);
}

void PaymentHandler::begin(soci::session& /*sql*/) {
  book_.clear();
}

void PaymentHandler::before_commit(soci::session& sql, events::OutboxWriter& /*outbox*/) {
  book_.flush(sql);
}

void PaymentHandler::charge(events::HandlerContext& ctx,
                            const contracts::payment::ChargePaymentV1& cmd) {
  const std::string& order_id = cmd.order_id;
  const int attempt = static_cast<int>(cmd.attempt.value_or(1));
  const PaymentRow row =
      book_.ensure(ctx.sql, {order_id, PaymentStatus::pending, cmd.amount, cmd.currency});
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
  PaymentRow after = row;
  after.status = *status;
  after.amount = cmd.amount;
  after.currency = cmd.currency;
  after.last_attempt = attempt;
  if (*status == PaymentStatus::charged) {
    after.payment_id = ids_.next().str();
    after.charged = cmd.amount;
    after.decline_reason.clear();
    book_.write(order_id, after, true, true, false);
    ctx.emit(kPaymentEvents, order_id,
             PaymentChargedV1{.order_id = order_id,
                              .payment_id = after.payment_id,
                              .amount = cmd.amount,
                              .currency = cmd.currency,
                              .attempt = attempt});
    return;
  }
  after.decline_reason = outcome.reason;
  book_.write(order_id, after, true, false, false);
  // No answer emits nothing: the saga's deadline decides what happens to the order.
  if (*status == PaymentStatus::declined) emit_declined(ctx, order_id, outcome.reason, attempt);
}

void PaymentHandler::refund(events::HandlerContext& ctx,
                            const contracts::payment::RefundPaymentV1& cmd) {
  const std::string& order_id = cmd.order_id;
  const std::string reason = cmd.reason.value_or("");
  const PaymentRow row =
      book_.ensure(ctx.sql, {order_id, PaymentStatus::voided, 0, default_currency_});
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
    const std::string refund_id = cmd.refund_id.value_or(ids_.next().str());
    PaymentRow after = row;
    after.status = step.status;
    after.refunded = step.refunded_total;
    book_.write(order_id, after, false, false, true);
    ctx.sql << kInsertRefund, soci::use(refund_id, "refund_id"), soci::use(order_id, "order_id"),
        soci::use(row.payment_id, "payment_id"), soci::use(step.amount, "amount"),
        soci::use(reason, "reason");
  } else if (step.status != row.status) {
    PaymentRow after = row;
    after.status = PaymentStatus::voided;
    book_.write(order_id, after, false, false, false);
  }
  refunded.amount = step.refunded_total;
  refunded.refunded_now = step.amount;
  ctx.emit(kPaymentEvents, order_id, refunded);
}

}  // namespace bazaar::payment
