#include "saga_messages.hpp"

#include <algorithm>

#include "contracts/contracts.hpp"

namespace bazaar::order {
namespace {

namespace ord = contracts::order;
namespace topic = contracts::topic;

template <typename Payload>
Message message(const char* to, const Payload& payload) {
  return {to, Payload::kType, payload.to_json()};
}

template <typename Line>
std::vector<Line> priced_lines(const std::vector<PricedLine>& lines) {
  std::vector<Line> out;
  for (const auto& l : lines) {
    out.push_back({.product_id = l.product_id,
                   .quantity = l.quantity,
                   .unit_price = l.unit_price,
                   .seller_id = l.seller_id,
                   .name = std::nullopt});
  }
  return out;
}

std::string compensation_reason(const std::string& reason) {
  return reason.empty() ? "compensation" : reason;
}

// `after`: the saga once the decision is applied (the attempt a charge is).
Message command_message(Command c, const OrderRecord& order, const Saga& after, int hold_seconds) {
  const std::string& id = order.order_id;
  const std::string& reason = after.reason;
  switch (c) {
    case Command::kReserveStock: {
      contracts::inventory::ReserveStockV1 cmd{
          .order_id = id, .lines = {}, .hold_seconds = std::nullopt};
      for (const auto& l : order.lines) cmd.lines.push_back({l.product_id, l.quantity});
      if (hold_seconds > 0) cmd.hold_seconds = hold_seconds;
      return message(topic::kInventoryCommands, cmd);
    }
    case Command::kChargePayment:
      return message(topic::kPaymentCommands,
                     contracts::payment::ChargePaymentV1{.order_id = id,
                                                         .amount = order.total,
                                                         .currency = order.currency,
                                                         .payment_token = order.payment_token,
                                                         .buyer_id = order.buyer_id,
                                                         .attempt = std::max(1, after.attempts)});
    case Command::kCommitReservation:
      return message(topic::kInventoryCommands,
                     contracts::inventory::CommitReservationV1{.order_id = id});
    case Command::kReleaseStock:
      return message(topic::kInventoryCommands,
                     contracts::inventory::ReleaseStockV1{.order_id = id,
                                                          .reason = compensation_reason(reason)});
    case Command::kRefundPayment: {
      contracts::payment::RefundPaymentV1 cmd{.order_id = id,
                                              .reason = compensation_reason(reason),
                                              .amount = std::nullopt,
                                              .refund_id = std::nullopt};
      // An admin's refund of everything left: the payment answers it by its id.
      if (!order.refund_id.empty()) {
        cmd.refund_id = order.refund_id;
        cmd.reason = order.refund_reason;
      }
      return message(topic::kPaymentCommands, cmd);
    }
  }
  throw std::logic_error("unknown saga command");
}

}  // namespace

const char* command_name(Command c) {
  switch (c) {
    case Command::kReserveStock:
      return "ReserveStock";
    case Command::kChargePayment:
      return "ChargePayment";
    case Command::kCommitReservation:
      return "CommitReservation";
    case Command::kReleaseStock:
      return "ReleaseStock";
    case Command::kRefundPayment:
      return "RefundPayment";
  }
  return "Unknown";
}

Message placement_message(const OrderRecord& order) {
  if (order.saga.status == Status::kRejected) {
    return message(topic::kOrderEvents, ord::OrderRejectedV1{.order_id = order.order_id,
                                                             .buyer_id = order.buyer_id,
                                                             .reason = order.saga.reason});
  }
  return message(topic::kOrderEvents,
                 ord::OrderPlacedV1{.order_id = order.order_id,
                                    .buyer_id = order.buyer_id,
                                    .lines = priced_lines<ord::OrderPlacedV1::Line>(order.lines),
                                    .total = order.total,
                                    .currency = order.currency});
}

std::vector<Message> decision_messages(const OrderRecord& before, const Decision& d,
                                       const std::string& trigger,
                                       const std::string& payment_due_at, int hold_seconds) {
  std::vector<Message> out;
  const Status from = before.saga.status;
  const Status to = d.saga.status;
  const std::string& id = before.order_id;
  for (Command c : d.commands) out.push_back(command_message(c, before, d.saga, hold_seconds));
  if (d.awaiting_buyer) {
    ord::OrderAwaitingPaymentV1 awaiting{.order_id = id,
                                         .buyer_id = before.buyer_id,
                                         .total = before.total,
                                         .currency = before.currency,
                                         .due_at = payment_due_at,
                                         .attempts_used = d.saga.attempts,
                                         .attempts_left = d.saga.max_attempts - d.saga.attempts,
                                         .reason = std::nullopt};
    if (d.saga.attempts > 0) awaiting.reason = "payment_declined";
    out.push_back(message(topic::kOrderEvents, awaiting));
  }
  if (d.rejected) {
    out.push_back(message(
        topic::kOrderEvents,
        ord::OrderCommandRejectedV1{
            .order_id = id,
            .command = trigger,
            .reason = d.note,
            .status = std::string(to_string(to)),
            .refund_id = before.refund_id.empty() ? std::nullopt
                                                  : std::optional<std::string>(before.refund_id)}));
  }
  if (from == to) return out;
  ord::OrderStatusChangedV1 changed{.order_id = id,
                                    .buyer_id = before.buyer_id,
                                    .status = std::string(to_string(to)),
                                    .previous_status = std::string(to_string(from)),
                                    .reason = std::nullopt};
  if (!d.saga.reason.empty()) changed.reason = d.saga.reason;
  out.push_back(message(topic::kOrderEvents, changed));
  if (to == Status::kConfirmed) {
    out.push_back(message(
        topic::kOrderEvents,
        ord::OrderConfirmedV1{.order_id = id,
                              .buyer_id = before.buyer_id,
                              .lines = priced_lines<ord::OrderConfirmedV1::Line>(before.lines),
                              .total = before.total,
                              .currency = before.currency}));
  } else if (to == Status::kRejected) {
    out.push_back(message(topic::kOrderEvents, ord::OrderRejectedV1{.order_id = id,
                                                                    .buyer_id = before.buyer_id,
                                                                    .reason = d.saga.reason,
                                                                    .total = before.total,
                                                                    .currency = before.currency}));
  } else if (to == Status::kCancelled) {
    out.push_back(message(topic::kOrderEvents,
                          ord::OrderCancelledV1{.order_id = id,
                                                .buyer_id = before.buyer_id,
                                                .reason = d.saga.reason,
                                                .total = before.total,
                                                .currency = before.currency,
                                                .previous_status = std::string(to_string(from))}));
  }
  return out;
}

Message partial_refund_message(const OrderRecord& order, std::int64_t amount) {
  return message(topic::kPaymentCommands,
                 contracts::payment::RefundPaymentV1{.order_id = order.order_id,
                                                     .reason = order.refund_reason,
                                                     .amount = amount,
                                                     .refund_id = order.refund_id});
}

Message refunded_message(const OrderRecord& order, const std::string& refund_id,
                         std::int64_t amount, std::int64_t refunded_total,
                         const std::string& reason) {
  ord::OrderRefundedV1 e{.order_id = order.order_id,
                         .buyer_id = order.buyer_id,
                         .refund_id = refund_id,
                         .amount = amount,
                         .refunded_total = refunded_total,
                         .total = order.total,
                         .currency = order.currency,
                         .reason = std::nullopt};
  if (!reason.empty()) e.reason = reason;
  return message(topic::kOrderEvents, e);
}

std::vector<Message> unknown_order_messages(const std::string& order_id, const Decision& d) {
  OrderRecord unknown;
  unknown.order_id = order_id;
  std::vector<Message> out;
  unknown.saga.reason = "unknown_order";
  for (Command c : d.commands) out.push_back(command_message(c, unknown, unknown.saga, 0));
  return out;
}

}  // namespace bazaar::order
