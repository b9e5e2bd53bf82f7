#pragma once

#include <boost/json/object.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "contracts/contracts.hpp"

namespace bazaar::notification {

/// One notification to create: who gets it, in which role, what kind, and its text. The text
/// names the order by id only and carries no personal data.
struct Notification {
  std::string recipient_id;
  std::string recipient_role;  ///< admin, seller or buyer
  std::string kind;            ///< a `kind` of NotificationCreated
  std::string order_id;
  std::string title;
  std::string body;

  bool operator==(const Notification&) const = default;
};

/// The event types that can lead to notifications.
const std::vector<std::string_view>& notified_types();
/// True for one of notified_types().
bool notifies(std::string_view event_type);

/// Whether an OrderCancelled `reason` means the order failed (admins are told) rather than
/// was cancelled or refunded on purpose after confirmation.
bool cancellation_is_failure(std::string_view reason);

/// The notifications one event causes, given the ids of the current admins. An event of
/// another type, or one without what a rule needs, causes none.
std::vector<Notification> notifications_for(std::string_view event_type,
                                            const boost::json::object& payload,
                                            const std::vector<std::string>& admin_ids);

/// The NotificationCreated payload of `n`, also the body POSTed to the webhook.
contracts::notification::NotificationCreatedV1 created_payload(const std::string& notification_id,
                                                               const Notification& n,
                                                               const std::string& created_at);

}  // namespace bazaar::notification
