#pragma once

#include <optional>
#include <string_view>

namespace bazaar::order {

/// The states of an order's saga (DESIGN.md, "The order saga"). These rules are the one place
/// that says what each state allows: the saga decides with them, and edge answers its
/// optimistic 409s and orders its view's updates with them.
enum class Status {
  kPlaced,
  kAwaitingStock,
  kAwaitingPayment,
  kCompensating,
  kConfirmed,
  kShipped,
  kDelivered,
  kRejected,
  kCancelled,
};

/// The wire name: PLACED, AWAITING_STOCK, ...
std::string_view to_string(Status s);
std::optional<Status> status_from_string(std::string_view s);

/// REJECTED, CANCELLED and DELIVERED end the saga.
bool is_terminal(Status s);
/// The first outcome of a placed order: CONFIRMED, REJECTED or CANCELLED.
bool is_outcome(Status s);
/// The saga waits for no reply and no deadline may stay armed: an outcome, SHIPPED or
/// DELIVERED.
bool is_settled(Status s);
/// Whether a CancelOrder is accepted in `s` (a confirmed order is refunded and restocked).
bool may_cancel(Status s);
/// Whether a PayOrder may be accepted in `s`: before the outcome, while nothing is charged.
bool may_pay(Status s);
/// The state an order must be in to be advanced to `target` (SHIPPED needs CONFIRMED,
/// DELIVERED needs SHIPPED); nullopt when no order can be advanced to it.
std::optional<Status> advances_from(Status target);
/// Whether the saga can move from `from` to `to` in any number of steps (or stay): the states
/// form a graph without cycles, so this orders any two states of one order.
bool may_follow(Status from, Status to);

}  // namespace bazaar::order
