#pragma once

#include <string>

#include "contracts/contracts.hpp"
#include "events/clock.hpp"
#include "events/handler.hpp"
#include "events/uuid.hpp"
#include "notification_rules.hpp"

namespace bazaar::notification {

/// Keeps the users projection (who the admins are) from identity.events and turns order
/// outcomes into notifications: each is stored once, emitted as NotificationCreated, logged,
/// and, when a webhook is configured, queued for delivery, all in the event's transaction.
class NotificationHandler final : public events::DispatchHandler<NotificationHandler> {
 public:
  /// `webhook`: whether each notification also gets a row in `deliveries`.
  NotificationHandler(const events::Clock& clock, bool webhook);

 private:
  void registered(events::HandlerContext& ctx, const contracts::identity::UserRegisteredV1& e);
  void role_changed(events::HandlerContext& ctx, const contracts::identity::UserRoleChangedV1& e);
  void disabled(events::HandlerContext& ctx, const contracts::identity::UserDisabledV1& e);
  void one_time_code(events::HandlerContext& ctx, const contracts::identity::OtpRequestedV1& e);
  void notify(events::HandlerContext& ctx);
  /// Creates `n` once for this event; `secret_code` goes to the webhook delivery only.
  void create(events::HandlerContext& ctx, const Notification& n, const std::string& secret_code);

  events::UuidV7Generator ids_;
  bool webhook_;
};

}  // namespace bazaar::notification
