#include "notifications/notification_projection.hpp"

#include <boost/json/serialize.hpp>

#include "catalog/catalog_projection.hpp"
#include "events/db.hpp"

namespace bazaar::edge {
namespace {

// Prepared once per connection (events::PreparedStatement): a saga sends several notifications.
// RETURNING tells a new row from one stored before.
const events::PreparedStatement kInsertNotification{"edge_notifications_insert", R"sql(
INSERT INTO notifications_view (notification_id, recipient_id, kind, order_id, title, body,
                                created_at)
VALUES (CAST($1 AS uuid), CAST($2 AS uuid), $3, CAST($4 AS uuid), $5, $6,
        CAST($7 AS timestamptz))
ON CONFLICT (notification_id) DO NOTHING
RETURNING 1)sql"};

}  // namespace

NotificationProjection::NotificationProjection(const LivePush& live) : live_(live) {
  on(&NotificationProjection::created);
}

void NotificationProjection::created(events::HandlerContext& ctx,
                                     const contracts::notification::NotificationCreatedV1& e) {
  const std::string order_id = e.order_id.value_or("");
  const std::string created_at = normalised_time(e.created_at);
  const std::string* order = order_id.empty() ? nullptr : &order_id;  // NULL without one
  // The same notification under another event id: stored once, pushed once.
  if (kInsertNotification.run(ctx.sql, {&e.notification_id, &e.recipient_id, &e.kind, order,
                                        &e.title, &e.body, &created_at}) == 0) {
    return;
  }
  ctx.after_commit([this, recipient = e.recipient_id,
                    message = notification_message(notification_json(
                        e.notification_id, e.kind, order_id, e.title, e.body, created_at))] {
    live_.send_to_user(recipient, message);
  });
}

boost::json::object notification_json(const std::string& id, const std::string& kind,
                                      const std::string& order_id, const std::string& title,
                                      const std::string& body, const std::string& created_at) {
  boost::json::object o{{"id", id}, {"kind", kind}};
  if (!order_id.empty()) o["order_id"] = order_id;
  o["title"] = title;
  o["body"] = body;
  o["created_at"] = created_at;
  return o;
}

std::string notification_message(boost::json::object notification) {
  return boost::json::serialize(
      boost::json::object{{"type", "notification"}, {"notification", std::move(notification)}});
}

}  // namespace bazaar::edge
