#pragma once

#include <optional>
#include <string>
#include <vector>

#include "contracts/contracts.hpp"
#include "events/clock.hpp"
#include "events/handler.hpp"
#include "events/uuid.hpp"
#include "notification_rules.hpp"

namespace bazaar::notification {

/// Keeps the users projection (who the admins are, which chat each bound) from identity.events
/// and turns order outcomes into notifications: each is stored once, emitted as
/// NotificationCreated, logged, and queued for the configured sinks (the webhook, and the chat
/// bot for a user who bound a chat), all in the event's transaction. A one-time code goes to
/// the user's chat when there is one, else to the webhook. identity.events and order.events are
/// read side by side, so a binding can be handled after a notification made later than it: each
/// binding takes the chat deliveries of the notifications made since its time (ce_time), and an
/// older binding than the one held changes nothing.
class NotificationHandler final : public events::DispatchHandler<NotificationHandler> {
 public:
  /// `webhook`: whether each notification also gets a row in `deliveries`; `chat`: whether a
  /// chat bot is configured (rows in `chat_deliveries` for users with a chat).
  NotificationHandler(const events::Clock& clock, bool webhook, bool chat = false);

 private:
  // The admins are read once per transaction (every order event notifies them), again after a
  // record of the transaction changed a user.
  void begin(soci::session& /*sql*/) override { admins_.reset(); }
  const std::vector<std::string>& admin_ids(soci::session& sql);
  void registered(events::HandlerContext& ctx, const contracts::identity::UserRegisteredV1& e);
  void role_changed(events::HandlerContext& ctx, const contracts::identity::UserRoleChangedV1& e);
  void disabled(events::HandlerContext& ctx, const contracts::identity::UserDisabledV1& e);
  void chat_bound(events::HandlerContext& ctx, const contracts::identity::UserChatBoundV1& e);
  void one_time_code(events::HandlerContext& ctx, const contracts::identity::OtpRequestedV1& e);
  void notify(events::HandlerContext& ctx);
  /// Creates `n` once for this event; `secret_code` goes to one sink's delivery only (the
  /// chat's when the recipient has one, else the webhook's), never to a log or an event.
  void create(events::HandlerContext& ctx, const Notification& n, const std::string& secret_code);

  events::UuidV7Generator ids_;
  bool webhook_;
  bool chat_;
  std::optional<std::vector<std::string>> admins_;
};

}  // namespace bazaar::notification
