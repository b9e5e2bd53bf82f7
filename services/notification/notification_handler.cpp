#include "notification_handler.hpp"

#include <soci/soci.h>
#include <spdlog/spdlog.h>

#include <boost/json/serialize.hpp>
#include <vector>

#include "notification_rules.hpp"

namespace bazaar::notification {
namespace {

constexpr const char* kUserRole =
    "SELECT COALESCE(role, 'buyer') FROM users WHERE user_id = CAST(:id AS uuid)";

constexpr const char* kUpsertRole = R"sql(
INSERT INTO users (user_id, role, updated_at)
VALUES (CAST(:user_id AS uuid), :role, now())
ON CONFLICT (user_id) DO UPDATE SET role = EXCLUDED.role, updated_at = now())sql";

constexpr const char* kUpsertDisabled = R"sql(
INSERT INTO users (user_id, disabled, updated_at)
VALUES (CAST(:user_id AS uuid), :disabled, now())
ON CONFLICT (user_id) DO UPDATE SET disabled = EXCLUDED.disabled, updated_at = now())sql";

constexpr const char* kSelectAdmins = R"sql(
SELECT CAST(user_id AS text) FROM users
WHERE role = 'admin' AND NOT disabled
ORDER BY user_id)sql";

// The unique key absorbs the same event arriving again by another path (a replay after the
// inbox forgot it, a re-published copy): the notification exists once.
constexpr const char* kInsertNotification = R"sql(
INSERT INTO notifications (notification_id, source_event_id, source_type, recipient_id,
                           recipient_role, kind, order_id, title, body, created_at)
VALUES (CAST(:notification_id AS uuid), CAST(:source_event_id AS uuid), :source_type,
        CAST(:recipient_id AS uuid), :recipient_role, :kind, CAST(NULLIF(:order_id, '') AS uuid),
        :title, :body, CAST(:created_at AS timestamptz))
ON CONFLICT (source_event_id, recipient_id, kind) DO NOTHING)sql";

constexpr const char* kInsertDelivery = R"sql(
INSERT INTO deliveries (notification_id, status, attempts, next_attempt_at, payload, created_at,
                        updated_at)
VALUES (CAST(:notification_id AS uuid), 'PENDING', 0, CAST(:next_attempt_at AS timestamptz),
        CAST(:payload AS jsonb), CAST(:created_at AS timestamptz),
        CAST(:updated_at AS timestamptz)))sql";

std::vector<std::string> admin_ids(soci::session& sql) {
  std::vector<std::string> ids;
  soci::rowset<std::string> rows = (sql.prepare << kSelectAdmins);
  for (const auto& id : rows) ids.push_back(id);
  return ids;
}

}  // namespace

NotificationHandler::NotificationHandler(const events::Clock& clock, bool webhook)
    : ids_(clock, events::system_random()), webhook_(webhook) {
  on(&NotificationHandler::registered);
  on(&NotificationHandler::role_changed);
  on(&NotificationHandler::disabled);
  on(&NotificationHandler::one_time_code);
  for (const auto type : notified_types()) on(std::string(type), &NotificationHandler::notify);
}

// Only the role is kept: the projection needs no name or email.
void NotificationHandler::registered(events::HandlerContext& ctx,
                                     const contracts::identity::UserRegisteredV1& e) {
  ctx.sql << kUpsertRole, soci::use(e.user_id, "user_id"), soci::use(e.role, "role");
}

void NotificationHandler::role_changed(events::HandlerContext& ctx,
                                       const contracts::identity::UserRoleChangedV1& e) {
  ctx.sql << kUpsertRole, soci::use(e.user_id, "user_id"), soci::use(e.role, "role");
}

void NotificationHandler::disabled(events::HandlerContext& ctx,
                                   const contracts::identity::UserDisabledV1& e) {
  // The event means "disabled" unless it says otherwise (re-enabled).
  const int disabled = e.disabled.value_or(true) ? 1 : 0;
  ctx.sql << kUpsertDisabled, soci::use(e.user_id, "user_id"), soci::use(disabled, "disabled");
}

void NotificationHandler::one_time_code(events::HandlerContext& ctx,
                                        const contracts::identity::OtpRequestedV1& e) {
  std::string role = "buyer";
  soci::indicator found = soci::i_null;
  ctx.sql << kUserRole, soci::use(e.user_id, "id"), soci::into(role, found);
  if (found != soci::i_ok) role = "buyer";
  const Notification n{e.user_id,
                       role,
                       "otp",
                       "",
                       "Your sign-in code",
                       "A one-time sign-in code was requested for your account."};
  // The code travels only to the delivery sink (the webhook standing in for a chat bot):
  // never into notification.events, the notifications table or a log line.
  create(ctx, n, e.code);
}

void NotificationHandler::notify(events::HandlerContext& ctx) {
  const auto notes =
      notifications_for(ctx.event.type, ctx.event.data.as_object(), admin_ids(ctx.sql));
  for (const auto& n : notes) create(ctx, n, {});
}

void NotificationHandler::create(events::HandlerContext& ctx, const Notification& n,
                                 const std::string& secret_code) {
  const std::string notification_id = ids_.next().str();
  const std::string created_at = events::format_rfc3339(ctx.clock.now());
  soci::statement insert =
      (ctx.sql.prepare << kInsertNotification, soci::use(notification_id, "notification_id"),
       soci::use(ctx.event.id, "source_event_id"), soci::use(ctx.event.type, "source_type"),
       soci::use(n.recipient_id, "recipient_id"), soci::use(n.recipient_role, "recipient_role"),
       soci::use(n.kind, "kind"), soci::use(n.order_id, "order_id"), soci::use(n.title, "title"),
       soci::use(n.body, "body"), soci::use(created_at, "created_at"));
  insert.execute(true);
  if (insert.get_affected_rows() == 0) return;  // created before from this event

  const auto payload = created_payload(notification_id, n, created_at);
  if (webhook_) {
    auto delivered = payload.to_json();
    if (!secret_code.empty()) delivered["code"] = secret_code;
    const std::string payload_text = boost::json::serialize(delivered);
    ctx.sql << kInsertDelivery, soci::use(notification_id, "notification_id"),
        soci::use(created_at, "next_attempt_at"), soci::use(payload_text, "payload"),
        soci::use(created_at, "created_at"), soci::use(created_at, "updated_at");
  }
  ctx.emit(contracts::topic::kNotificationEvents, n.recipient_id, payload);
  // The log sink: ids and kind only, never the text (it may grow personal details), and
  // only for a notification that was committed.
  ctx.after_commit([notification_id, recipient = n.recipient_id, kind = n.kind] {
    spdlog::info("notification created notification_id={} recipient_id={} kind={}", notification_id,
                 recipient, kind);
  });
}

}  // namespace bazaar::notification
