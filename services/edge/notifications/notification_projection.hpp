#pragma once

#include <boost/json/object.hpp>
#include <string>

#include "contracts/contracts.hpp"
#include "events/handler.hpp"
#include "http/live_push.hpp"

namespace bazaar::edge {

/// The edge's notification inbox: notifications_view from notification.events. Each new
/// notification is pushed to its recipient's open sessions.
class NotificationProjection final : public events::DispatchHandler<NotificationProjection> {
 public:
  static constexpr const char* kGroup = "edge-notifications";

  explicit NotificationProjection(const LivePush& live);

 private:
  void created(events::HandlerContext& ctx,
               const contracts::notification::NotificationCreatedV1& e);

  const LivePush& live_;
};

/// A notification as clients see it (list item and live message):
/// {"id","kind","order_id"?,"title","body","created_at"}.
boost::json::object notification_json(const std::string& id, const std::string& kind,
                                      const std::string& order_id, const std::string& title,
                                      const std::string& body, const std::string& created_at);

/// The live message of a new notification: {"type":"notification","notification":{...}}.
std::string notification_message(boost::json::object notification);

}  // namespace bazaar::edge
