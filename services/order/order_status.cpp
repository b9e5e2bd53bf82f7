#include "order_status.hpp"

#include <array>
#include <utility>

namespace bazaar::order {
namespace {

constexpr std::array<std::pair<Status, std::string_view>, 9> kNames{{
    {Status::kPlaced, "PLACED"},
    {Status::kAwaitingStock, "AWAITING_STOCK"},
    {Status::kAwaitingPayment, "AWAITING_PAYMENT"},
    {Status::kCompensating, "COMPENSATING"},
    {Status::kConfirmed, "CONFIRMED"},
    {Status::kShipped, "SHIPPED"},
    {Status::kDelivered, "DELIVERED"},
    {Status::kRejected, "REJECTED"},
    {Status::kCancelled, "CANCELLED"},
}};

// Every single step the saga takes (saga.cpp), plus PLACED -> REJECTED for an order that
// could not be priced.
constexpr std::array<std::pair<Status, Status>, 14> kSteps{{
    {Status::kPlaced, Status::kAwaitingStock},
    {Status::kPlaced, Status::kRejected},
    {Status::kAwaitingStock, Status::kAwaitingPayment},
    {Status::kAwaitingStock, Status::kRejected},
    {Status::kAwaitingStock, Status::kCompensating},
    {Status::kAwaitingStock, Status::kCancelled},
    {Status::kAwaitingPayment, Status::kConfirmed},
    {Status::kAwaitingPayment, Status::kCompensating},
    {Status::kAwaitingPayment, Status::kCancelled},
    {Status::kCompensating, Status::kCancelled},
    {Status::kConfirmed, Status::kShipped},
    {Status::kConfirmed, Status::kCompensating},
    {Status::kConfirmed, Status::kCancelled},
    {Status::kShipped, Status::kDelivered},
}};

bool reachable(Status from, Status to, std::size_t depth) {
  if (depth > kNames.size()) return false;
  for (const auto& [a, b] : kSteps) {
    if (a == from && (b == to || reachable(b, to, depth + 1))) return true;
  }
  return false;
}

}  // namespace

std::string_view to_string(Status s) {
  for (const auto& [status, name] : kNames) {
    if (status == s) return name;
  }
  return "UNKNOWN";
}

std::optional<Status> status_from_string(std::string_view s) {
  for (const auto& [status, name] : kNames) {
    if (name == s) return status;
  }
  return std::nullopt;
}

bool is_terminal(Status s) {
  return s == Status::kRejected || s == Status::kCancelled || s == Status::kDelivered;
}

bool is_outcome(Status s) {
  return s == Status::kConfirmed || s == Status::kRejected || s == Status::kCancelled;
}

bool is_settled(Status s) {
  return is_outcome(s) || s == Status::kShipped || is_terminal(s);
}

bool may_cancel(Status s) {
  return s == Status::kPlaced || s == Status::kAwaitingStock || s == Status::kAwaitingPayment ||
         s == Status::kConfirmed;
}

bool may_pay(Status s) {
  return s == Status::kPlaced || s == Status::kAwaitingStock || s == Status::kAwaitingPayment;
}

std::optional<Status> advances_from(Status target) {
  if (target == Status::kShipped) return Status::kConfirmed;
  if (target == Status::kDelivered) return Status::kShipped;
  return std::nullopt;
}

bool may_follow(Status from, Status to) {
  return from == to || reachable(from, to, 0);
}

}  // namespace bazaar::order
