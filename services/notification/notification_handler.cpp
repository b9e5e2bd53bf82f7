#include "notification_handler.hpp"

#include <soci/soci.h>
#include <spdlog/spdlog.h>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <vector>

#include "events/db.hpp"
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

// A binding and a notification of the same user, handled at once by two instances (identity.events
// and order.events go to different partitions), would each miss the other's uncommitted rows:
// the binding holds this lock of the user exclusively, a notification shares it, and each reads
// only after it got the lock (a statement of its own, so its reads come after the wait).
// 0x63686174: "chat", the class of these keys.
const events::PreparedStatement kLockChatOf{
    "notification_lock_chat_of", "SELECT pg_advisory_xact_lock(1667785076, hashtext($1))"};
const events::PreparedStatement kShareChatOf{
    "notification_share_chat_of", "SELECT pg_advisory_xact_lock_shared(1667785076, hashtext($1))"};

// A binding applies only when it is not older than the one the row holds: a late or replayed
// UserChatBound changes nothing (no row returned).
const events::PreparedStatement kApplyChat{"notification_apply_chat", R"sql(
INSERT INTO users (user_id, chat_id, chat_bound_at, updated_at)
VALUES (CAST($1 AS uuid), NULLIF($2, ''), CAST($3 AS timestamptz), now())
ON CONFLICT (user_id) DO UPDATE
SET chat_id = EXCLUDED.chat_id, chat_bound_at = EXCLUDED.chat_bound_at, updated_at = now()
WHERE users.chat_bound_at IS NULL OR users.chat_bound_at <= EXCLUDED.chat_bound_at
RETURNING 1)sql"};

// The chat deliveries not yet made of a user's notifications created since a binding's time
// ($2): they follow that binding, to no chat (dropped) or to its chat ($3, the JSON chat id;
// those an earlier chat refused for good are tried again there). A one-time code stays: it went
// to no other sink and is asked for again only by its user, so it keeps its chat. A row a sender
// is posting right now is posted as claimed; one moved meanwhile is not recorded as delivered
// (DeliverySender compares the payload) and goes to the new chat once the claim ends.
const events::PreparedStatement kDropChatSince{"notification_drop_chat_since", R"sql(
DELETE FROM chat_deliveries AS d USING notifications AS n
WHERE n.notification_id = d.notification_id AND n.recipient_id = CAST($1 AS uuid)
  AND n.created_at >= CAST($2 AS timestamptz) AND d.status = 'PENDING' AND n.kind <> 'otp')sql"};
const events::PreparedStatement kMoveChatSince{"notification_move_chat_since", R"sql(
UPDATE chat_deliveries AS d
SET payload = jsonb_set(d.payload, '{chat_id}', CAST($3 AS jsonb)),
    status = 'PENDING',
    attempts = CASE WHEN d.status = 'FAILED' THEN 0 ELSE d.attempts END,
    next_attempt_at = CASE WHEN d.status = 'FAILED' THEN CAST($4 AS timestamptz)
                           ELSE d.next_attempt_at END,
    last_error = NULL, updated_at = CAST($4 AS timestamptz)
FROM notifications AS n
WHERE n.notification_id = d.notification_id AND n.recipient_id = CAST($1 AS uuid)
  AND n.created_at >= CAST($2 AS timestamptz) AND d.status IN ('PENDING', 'FAILED')
  AND d.payload -> 'chat_id' <> CAST($3 AS jsonb))sql"};

// The notifications created since the binding's time that found no chat when they were made get
// one now, with the text create() gives them. A one-time code is never stored, so its
// notification has nothing to send late.
const events::PreparedStatement kQueueChatSince{"notification_queue_chat_since", R"sql(
INSERT INTO chat_deliveries (notification_id, status, attempts, next_attempt_at, payload,
                             created_at, updated_at)
SELECT n.notification_id, 'PENDING', 0, CAST($4 AS timestamptz),
       jsonb_build_object('chat_id', CAST($3 AS jsonb), 'text', n.title || chr(10) || n.body),
       CAST($4 AS timestamptz), CAST($4 AS timestamptz)
FROM notifications AS n JOIN users AS u ON u.user_id = n.recipient_id AND NOT u.disabled
WHERE n.recipient_id = CAST($1 AS uuid) AND n.created_at >= CAST($2 AS timestamptz)
  AND n.kind <> 'otp'
ON CONFLICT (notification_id) DO NOTHING)sql"};

// The statements of every notification, prepared once per connection
// (events::PreparedStatement).
const events::PreparedStatement kUserChat{
    "notification_user_chat",
    "SELECT COALESCE(chat_id, '') FROM users WHERE user_id = CAST($1 AS uuid) AND NOT disabled"};

const events::PreparedStatement kSelectAdmins{"notification_admins", R"sql(
SELECT CAST(user_id AS text) FROM users
WHERE role = 'admin' AND NOT disabled
ORDER BY user_id)sql"};

// The unique key absorbs the same event arriving again by another path (a replay after the
// inbox forgot it, a re-published copy): the notification exists once.
const events::PreparedStatement kInsertNotification{"notification_insert", R"sql(
INSERT INTO notifications (notification_id, source_event_id, source_type, recipient_id,
                           recipient_role, kind, order_id, title, body, created_at)
VALUES (CAST($1 AS uuid), CAST($2 AS uuid), $3, CAST($4 AS uuid), $5, $6,
        CAST(NULLIF($7, '') AS uuid), $8, $9, CAST($10 AS timestamptz))
ON CONFLICT (source_event_id, recipient_id, kind) DO NOTHING
RETURNING 1)sql"};

// The webhook's deliveries and the chat bot's, the same columns.
constexpr const char* kInsertDelivery = R"sql(
INSERT INTO {table} (notification_id, status, attempts, next_attempt_at, payload, created_at,
                        updated_at)
VALUES (CAST($1 AS uuid), 'PENDING', 0, CAST($2 AS timestamptz), CAST($3 AS jsonb),
        CAST($2 AS timestamptz), CAST($2 AS timestamptz)))sql";

std::string delivery_insert(const char* table) {
  std::string insert = kInsertDelivery;
  insert.replace(insert.find("{table}"), 7, table);
  return insert;
}

const events::PreparedStatement kInsertWebhookDelivery{"notification_webhook_delivery",
                                                       delivery_insert("deliveries")};
const events::PreparedStatement kInsertChatDelivery{"notification_chat_delivery",
                                                    delivery_insert("chat_deliveries")};

void queue_delivery(soci::session& sql, const events::PreparedStatement& insert,
                    const std::string& notification_id, const std::string& payload,
                    const std::string& created_at) {
  insert.run(sql, {&notification_id, &created_at, &payload});
}

// The Bot API takes a numeric chat id as an integer and a channel as its @name.
boost::json::value chat_id_json(const std::string& chat_id) {
  std::int64_t numeric = 0;
  const auto* end = chat_id.data() + chat_id.size();
  if (const auto [at, err] = std::from_chars(chat_id.data(), end, numeric);
      err == std::errc{} && at == end) {
    return numeric;
  }
  return boost::json::string(chat_id);
}

// The text of a notification in a chat (kQueueChatSince builds the same from the table).
std::string chat_text(const Notification& n, const std::string& secret_code) {
  return secret_code.empty() ? n.title + "\n" + n.body : n.title + ": " + secret_code;
}

}  // namespace

const std::vector<std::string>& NotificationHandler::admin_ids(soci::session& sql) {
  if (!admins_) {
    std::vector<std::string> ids;
    const events::PreparedRows rows = kSelectAdmins.query(sql, {});
    for (int i = 0; i < rows.size(); ++i) ids.push_back(rows.text(i, 0));
    admins_ = std::move(ids);
  }
  return *admins_;
}

NotificationHandler::NotificationHandler(const events::Clock& clock, bool webhook, bool chat)
    : ids_(clock, events::system_random()), webhook_(webhook), chat_(chat) {
  on(&NotificationHandler::registered);
  on(&NotificationHandler::chat_bound);
  on(&NotificationHandler::role_changed);
  on(&NotificationHandler::disabled);
  on(&NotificationHandler::one_time_code);
  for (const auto type : notified_types()) on(std::string(type), &NotificationHandler::notify);
}

// Only the role is kept: the projection needs no name or email.
void NotificationHandler::registered(events::HandlerContext& ctx,
                                     const contracts::identity::UserRegisteredV1& e) {
  ctx.sql << kUpsertRole, soci::use(e.user_id, "user_id"), soci::use(e.role, "role");
  admins_.reset();
}

void NotificationHandler::role_changed(events::HandlerContext& ctx,
                                       const contracts::identity::UserRoleChangedV1& e) {
  ctx.sql << kUpsertRole, soci::use(e.user_id, "user_id"), soci::use(e.role, "role");
  admins_.reset();
}

void NotificationHandler::disabled(events::HandlerContext& ctx,
                                   const contracts::identity::UserDisabledV1& e) {
  // The event means "disabled" unless it says otherwise (re-enabled).
  const int disabled = e.disabled.value_or(true) ? 1 : 0;
  ctx.sql << kUpsertDisabled, soci::use(e.user_id, "user_id"), soci::use(disabled, "disabled");
  admins_.reset();
}

void NotificationHandler::chat_bound(events::HandlerContext& ctx,
                                     const contracts::identity::UserChatBoundV1& e) {
  const std::string chat_id = e.chat_id.value_or("");
  const std::string& bound_at = ctx.event.time;
  if (chat_) kLockChatOf.run(ctx.sql, {&e.user_id});
  if (kApplyChat.query(ctx.sql, {&e.user_id, &chat_id, &bound_at}).empty()) return;  // stale
  if (!chat_) return;
  if (chat_id.empty()) {
    kDropChatSince.run(ctx.sql, {&e.user_id, &bound_at});
    return;
  }
  const std::string chat = boost::json::serialize(chat_id_json(chat_id));
  const std::string now = events::format_rfc3339(ctx.clock.now());
  kMoveChatSince.run(ctx.sql, {&e.user_id, &bound_at, &chat, &now});
  kQueueChatSince.run(ctx.sql, {&e.user_id, &bound_at, &chat, &now});
}

void NotificationHandler::one_time_code(events::HandlerContext& ctx,
                                        const contracts::identity::OtpRequestedV1& e) {
  std::string role = "buyer";
  soci::indicator found = soci::i_null;
  ctx.sql << kUserRole, soci::use(e.user_id, "id"), soci::into(role, found);
  if (found != soci::i_ok) role = "buyer";
  const bool phone = e.purpose == "phone_verification";
  const Notification n{e.user_id,
                       role,
                       "otp",
                       "",
                       phone ? "Your phone verification code" : "Your sign-in code",
                       phone ? "A code to verify the phone number of your account was requested."
                             : "A one-time sign-in code was requested for your account."};
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
  const int inserted = kInsertNotification.run(
      ctx.sql, {&notification_id, &ctx.event.id, &ctx.event.type, &n.recipient_id,
                &n.recipient_role, &n.kind, &n.order_id, &n.title, &n.body, &created_at});
  if (inserted == 0) return;  // created before from this event

  const auto payload = created_payload(notification_id, n, created_at);
  std::string chat_id;
  if (chat_) {
    kShareChatOf.run(ctx.sql, {&n.recipient_id});
    const events::PreparedRows found = kUserChat.query(ctx.sql, {&n.recipient_id});
    if (!found.empty()) chat_id = found.text(0, 0);
  }
  if (!chat_id.empty()) {
    const boost::json::object request{{"chat_id", chat_id_json(chat_id)},
                                      {"text", chat_text(n, secret_code)}};
    queue_delivery(ctx.sql, kInsertChatDelivery, notification_id, boost::json::serialize(request),
                   created_at);
  }
  // A code goes to one place: the chat when there is one, else the webhook.
  if (webhook_ && (secret_code.empty() || chat_id.empty())) {
    auto delivered = payload.to_json();
    if (!secret_code.empty()) delivered["code"] = secret_code;
    queue_delivery(ctx.sql, kInsertWebhookDelivery, notification_id,
                   boost::json::serialize(delivered), created_at);
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
