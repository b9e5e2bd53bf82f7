#pragma once

#include <string>

#include "events/clock.hpp"
#include "events/processor.hpp"
#include "notification_rules.hpp"
#include "events/uuid.hpp"

namespace bazaar::notification {

/// Keeps the users projection (who the admins are) from identity.events and turns order
/// outcomes into notifications: each is stored once, emitted as NotificationCreated, logged,
/// and, when a webhook is configured, queued for delivery, all in the event's transaction.
class NotificationHandler final : public events::Handler {
 public:
  /// `webhook`: whether each notification also gets a row in `deliveries`.
  NotificationHandler(const events::Clock& clock, bool webhook);
  bool wants(const std::string& type) const override;
  void apply(events::HandlerContext& ctx) override;

  /// The topic NotificationCreated goes to.
  static constexpr const char* kTopic = "notification.events";

 private:
  void project_user(events::HandlerContext& ctx);
  void notify(events::HandlerContext& ctx);
  void one_time_code(events::HandlerContext& ctx);
  /// Creates `n` once for this event; `secret_code` goes to the webhook delivery only.
  void create(events::HandlerContext& ctx, const Notification& n, const std::string& secret_code);

  events::UuidV7Generator ids_;
  bool webhook_;
};

}  // namespace bazaar::notification
