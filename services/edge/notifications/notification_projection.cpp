#include "notifications/notification_projection.hpp"

#include <soci/soci.h>

#include <boost/json/serialize.hpp>

#include "catalog/catalog_projection.hpp"

namespace bazaar::edge {
namespace {

constexpr const char* kInsertNotification = R"sql(
INSERT INTO notifications_view (notification_id, recipient_id, kind, order_id, title, body,
                                created_at)
VALUES (CAST(:notification_id AS uuid), CAST(:recipient_id AS uuid), :kind,
        CAST(:order_id AS uuid), :title, :body, CAST(:created_at AS timestamptz))
ON CONFLICT (notification_id) DO NOTHING)sql";

}  // namespace

NotificationProjection::NotificationProjection(const LivePush& live) : live_(live) {
  on(&NotificationProjection::created);
}

void NotificationProjection::created(events::HandlerContext& ctx,
                                     const contracts::notification::NotificationCreatedV1& e) {
  const std::string order_id = e.order_id.value_or("");
  soci::indicator order_ind = order_id.empty() ? soci::i_null : soci::i_ok;
  const std::string created_at = normalised_time(e.created_at);
  soci::statement insert =
      (ctx.sql.prepare << kInsertNotification, soci::use(e.notification_id, "notification_id"),
       soci::use(e.recipient_id, "recipient_id"), soci::use(e.kind, "kind"),
       soci::use(order_id, order_ind, "order_id"), soci::use(e.title, "title"),
       soci::use(e.body, "body"), soci::use(created_at, "created_at"));
  insert.execute(true);
  // The same notification under another event id: stored once, pushed once.
  if (insert.get_affected_rows() == 0) return;
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
