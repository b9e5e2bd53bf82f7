#include "notification_handler.hpp"

#include <soci/soci.h>
#include <spdlog/spdlog.h>

#include <boost/json/serialize.hpp>
#include <vector>

#include "events/json_fields.hpp"
#include "events/outbox.hpp"
#include "notification_rules.hpp"

namespace bazaar::notification {
namespace {

constexpr const char* kUserRegistered = "bazaar.identity.UserRegistered.v1";
constexpr const char* kUserRoleChanged = "bazaar.identity.UserRoleChanged.v1";
constexpr const char* kUserDisabled = "bazaar.identity.UserDisabled.v1";
constexpr const char* kNotificationCreated = "bazaar.notification.NotificationCreated.v1";
constexpr const char* kOtpRequested = "bazaar.identity.OtpRequested.v1";

constexpr const char* kUserRole = "SELECT COALESCE(role, 'buyer') FROM users WHERE user_id = CAST(:id AS uuid)";

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
    : ids_(clock, events::system_random()), webhook_(webhook) {}

bool NotificationHandler::wants(const std::string& type) const {
  return type == kUserRegistered || type == kUserRoleChanged || type == kUserDisabled ||
         type == kOtpRequested || notifies(type);
}

void NotificationHandler::apply(events::HandlerContext& ctx) {
  if (ctx.event.type == kOtpRequested) {
    one_time_code(ctx);
  } else if (notifies(ctx.event.type)) {
    notify(ctx);
  } else {
    project_user(ctx);
  }
}

void NotificationHandler::project_user(events::HandlerContext& ctx) {
  const auto& data = ctx.event.data.as_object();
  std::string user_id = events::required_string(data, "user_id");
  if (ctx.event.type == kUserDisabled) {
    // The event means "disabled" unless it says otherwise (re-enabled).
    const auto* flag = data.if_contains("disabled");
    int disabled = flag == nullptr || !flag->is_bool() || flag->get_bool() ? 1 : 0;
    ctx.sql << kUpsertDisabled, soci::use(user_id), soci::use(disabled);
    return;
  }
  // Only the role is kept: the projection needs no name or email.
  std::string role = events::required_string(data, "role");
  ctx.sql << kUpsertRole, soci::use(user_id), soci::use(role);
}

void NotificationHandler::one_time_code(events::HandlerContext& ctx) {
  const auto& data = ctx.event.data.as_object();
  std::string user_id = events::required_string(data, "user_id");
  std::string role = "buyer";
  soci::indicator found = soci::i_null;
  ctx.sql << kUserRole, soci::use(user_id), soci::into(role, found);
  if (found != soci::i_ok) role = "buyer";
  const Notification n{user_id, role, "otp", "", "Your sign-in code",
                       "A one-time sign-in code was requested for your account."};
  // The code travels only to the delivery sink (the webhook standing in for a chat bot):
  // never into notification.events, the notifications table or a log line.
  create(ctx, n, events::required_string(data, "code"));
}

void NotificationHandler::notify(events::HandlerContext& ctx) {
  const auto notes = notifications_for(ctx.event.type, ctx.event.data.as_object(),
                                       admin_ids(ctx.sql));
  for (const auto& n : notes) create(ctx, n, {});
}

void NotificationHandler::create(events::HandlerContext& ctx, const Notification& n,
                                 const std::string& secret_code) {
  std::string source_event_id = ctx.event.id;
  std::string source_type = ctx.event.type;
  {
    std::string notification_id = ids_.next().str();
    std::string created_at = events::format_rfc3339(ctx.clock.now());
    std::string recipient_id = n.recipient_id;
    std::string recipient_role = n.recipient_role;
    std::string kind = n.kind;
    std::string order_id = n.order_id;
    std::string title = n.title;
    std::string body = n.body;
    soci::statement insert =
        (ctx.sql.prepare << kInsertNotification, soci::use(notification_id),
         soci::use(source_event_id), soci::use(source_type), soci::use(recipient_id),
         soci::use(recipient_role), soci::use(kind), soci::use(order_id), soci::use(title),
         soci::use(body), soci::use(created_at));
    insert.execute(true);
    if (insert.get_affected_rows() == 0) return;  // created before from this event

    auto payload = created_payload(notification_id, n, created_at);
    if (webhook_) {
      auto delivered = payload;
      if (!secret_code.empty()) delivered["code"] = secret_code;
      std::string payload_text = boost::json::serialize(delivered);
      ctx.sql << kInsertDelivery, soci::use(notification_id), soci::use(created_at),
          soci::use(payload_text), soci::use(created_at), soci::use(created_at);
    }
    ctx.outbox.add(kTopic, ctx.factory.make(kNotificationCreated, n.recipient_id,
                                            std::move(payload), &ctx.event));
    // The log sink: ids and kind only, never the text (it may grow personal details), and
    // only for a notification that was committed.
    ctx.after_commit([notification_id, recipient = n.recipient_id, kind = n.kind] {
      spdlog::info("notification created notification_id={} recipient_id={} kind={}",
                   notification_id, recipient, kind);
    });
  }
}

}  // namespace bazaar::notification
