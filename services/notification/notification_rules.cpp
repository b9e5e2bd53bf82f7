#include "notification_rules.hpp"

#include <algorithm>
#include <boost/json/value.hpp>

#include "contracts/contracts.hpp"
#include "events/fields.hpp"

namespace bazaar::notification {
namespace {

namespace ord = contracts::order;
constexpr std::string_view kOrderPlaced = ord::OrderPlacedV1::kType;
constexpr std::string_view kOrderConfirmed = ord::OrderConfirmedV1::kType;
constexpr std::string_view kOrderCancelled = ord::OrderCancelledV1::kType;
constexpr std::string_view kOrderRejected = ord::OrderRejectedV1::kType;
constexpr std::string_view kOrderStatusChanged = ord::OrderStatusChangedV1::kType;
constexpr std::string_view kOrderAwaitingPayment = ord::OrderAwaitingPaymentV1::kType;
constexpr std::string_view kOrderRefunded = ord::OrderRefundedV1::kType;

// 1250 minor units of EUR -> "12.50 EUR".
std::string money_text(std::int64_t minor, const std::string& currency) {
  const std::int64_t cents = minor % 100;
  return std::to_string(minor / 100) + "." + (cents < 10 ? "0" : "") + std::to_string(cents) + " " +
         currency;
}

// A field a rule reads; absent reads as empty (the rule then makes no notification).
std::string text(const boost::json::object& payload, std::string_view key) {
  return events::Fields(payload).optional_string(key).value_or("");
}

// Each distinct id once, in order of first appearance, so a repeated admin or seller gets
// one notification.
std::vector<std::string> distinct(std::vector<std::string> ids) {
  std::vector<std::string> out;
  for (auto& id : ids) {
    if (!id.empty() && std::find(out.begin(), out.end(), id) == out.end()) {
      out.push_back(std::move(id));
    }
  }
  return out;
}

std::vector<std::string> sellers_of(const boost::json::object& payload) {
  std::vector<std::string> sellers;
  const auto* lines = payload.if_contains("lines");
  if (lines == nullptr || !lines->is_array()) return sellers;
  for (const auto& line : lines->get_array()) {
    if (line.is_object()) sellers.push_back(text(line.get_object(), "seller_id"));
  }
  return distinct(std::move(sellers));
}

void to_admins(std::vector<Notification>& out, const std::vector<std::string>& admin_ids,
               const std::string& order_id, const char* kind, const std::string& title,
               const std::string& body) {
  for (const auto& admin : distinct(admin_ids)) {
    out.push_back({admin, "admin", kind, order_id, title, body});
  }
}

}  // namespace

const std::vector<std::string_view>& notified_types() {
  static const std::vector<std::string_view> kTypes{
      kOrderPlaced,        kOrderConfirmed,       kOrderCancelled, kOrderRejected,
      kOrderStatusChanged, kOrderAwaitingPayment, kOrderRefunded};
  return kTypes;
}

bool notifies(std::string_view event_type) {
  const auto& types = notified_types();
  return std::find(types.begin(), types.end(), event_type) != types.end();
}

bool cancellation_is_failure(std::string_view reason) {
  return !(reason == "refunded" || reason.starts_with("cancelled"));
}

std::vector<Notification> notifications_for(std::string_view event_type,
                                            const boost::json::object& payload,
                                            const std::vector<std::string>& admin_ids) {
  std::vector<Notification> out;
  const std::string order_id = text(payload, "order_id");
  if (order_id.empty() || !notifies(event_type)) return out;
  const std::string buyer_id = text(payload, "buyer_id");
  const std::string order = "Order " + order_id;

  if (event_type == kOrderPlaced) {
    to_admins(out, admin_ids, order_id, "new_order", "New order " + order_id,
              order + " was placed.");
  } else if (event_type == kOrderConfirmed) {
    if (!buyer_id.empty()) {
      out.push_back({buyer_id, "buyer", "order_confirmed", order_id, order + " confirmed",
                     "Your order " + order_id + " is confirmed: payment taken, items reserved."});
    }
    for (const auto& seller : sellers_of(payload)) {
      out.push_back({seller, "seller", "item_sold", order_id, "Item sold in order " + order_id,
                     order + " includes items you sell; prepare them for shipping."});
    }
  } else if (event_type == kOrderCancelled) {
    const std::string reason = text(payload, "reason");
    if (!buyer_id.empty()) {
      out.push_back({buyer_id, "buyer", "order_cancelled", order_id, order + " cancelled",
                     "Your order " + order_id + " was cancelled (" + reason + ")."});
    }
    if (cancellation_is_failure(reason)) {
      to_admins(out, admin_ids, order_id, "order_failed", order + " failed",
                order + " was cancelled: " + reason + ".");
    }
  } else if (event_type == kOrderRejected) {
    to_admins(out, admin_ids, order_id, "order_failed", order + " failed",
              order + " was rejected: " + text(payload, "reason") + ".");
  } else if (event_type == kOrderAwaitingPayment && !buyer_id.empty()) {
    const bool declined = text(payload, "reason") == "payment_declined";
    const auto left = events::Fields(payload).optional_int64("attempts_left").value_or(0);
    out.push_back(
        {buyer_id, "buyer", "payment_required", order_id, order + " waits for your payment",
         std::string(declined ? "Your card was declined. " : "") + "Your order " + order_id +
             " holds its items until " + text(payload, "due_at") + ": pay it (" +
             std::to_string(left) + (left == 1 ? " attempt" : " attempts") + " left)."});
  } else if (event_type == kOrderRefunded && !buyer_id.empty()) {
    const events::Fields f(payload);
    const std::string currency = text(payload, "currency");
    const std::string reason = text(payload, "reason");
    out.push_back({buyer_id, "buyer", "order_refunded", order_id, order + " refunded",
                   money_text(f.optional_int64("amount").value_or(0), currency) +
                       " of your order " + order_id + " was refunded" +
                       (reason.empty() ? "" : " (" + reason + ")") + "; " +
                       money_text(f.optional_int64("refunded_total").value_or(0), currency) +
                       " refunded in all."});
  } else if (event_type == kOrderStatusChanged && !buyer_id.empty()) {
    const std::string status = text(payload, "status");
    if (status == "SHIPPED") {
      out.push_back({buyer_id, "buyer", "order_shipped", order_id, order + " shipped",
                     "Your order " + order_id + " is on its way."});
    } else if (status == "DELIVERED") {
      out.push_back({buyer_id, "buyer", "order_delivered", order_id, order + " delivered",
                     "Your order " + order_id + " was delivered."});
    }
  }
  return out;
}

contracts::notification::NotificationCreatedV1 created_payload(const std::string& notification_id,
                                                               const Notification& n,
                                                               const std::string& created_at) {
  contracts::notification::NotificationCreatedV1 out{.notification_id = notification_id,
                                                     .recipient_id = n.recipient_id,
                                                     .recipient_role = n.recipient_role,
                                                     .kind = n.kind,
                                                     .order_id = std::nullopt,
                                                     .title = n.title,
                                                     .body = n.body,
                                                     .created_at = created_at};
  if (!n.order_id.empty()) out.order_id = n.order_id;
  return out;
}

}  // namespace bazaar::notification
