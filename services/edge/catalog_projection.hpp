#pragma once

#include <atomic>
#include <boost/json/object.hpp>
#include <string>
#include <vector>

#include "events/processor.hpp"
#include "http_server.hpp"

namespace bazaar::edge {

/// The edge's catalog-side read models: products_view and product_stock_view from
/// catalog.events and inventory.events, notifications_view from notification.events. It also
/// pushes stock changes and new notifications to open WebSocket sessions.
class CatalogProjection final : public events::Handler {
 public:
  static constexpr const char* kGroup = "edge-catalog";
  /// The topics of kGroup.
  static std::vector<std::string> topics();

  /// `publisher` may be null: nothing is pushed until set_publisher() gives one.
  explicit CatalogProjection(WebSocketPublisher* publisher = nullptr);
  /// Sets (or clears, with null) where live messages go; safe while apply() runs.
  void set_publisher(WebSocketPublisher* publisher);

  bool wants(const std::string& type) const override;
  void apply(events::HandlerContext& ctx) override;

 private:
  void product_created(events::HandlerContext& ctx);
  void product_updated(events::HandlerContext& ctx);
  void product_deleted(events::HandlerContext& ctx);
  void command_rejected(events::HandlerContext& ctx);
  void stock_changed(events::HandlerContext& ctx);
  void notification_created(events::HandlerContext& ctx);

  std::atomic<WebSocketPublisher*> publisher_;
};

/// The live message of a stock change: {"type":"stock","product_id","stock"}.
std::string stock_message(const std::string& product_id, std::int64_t stock);

/// A notification as clients see it (list item and live message):
/// {"id","kind","order_id"?,"title","body","created_at"}.
boost::json::object notification_json(const std::string& id, const std::string& kind,
                                      const std::string& order_id, const std::string& title,
                                      const std::string& body, const std::string& created_at);

/// The live message of a new notification: {"type":"notification","notification":{...}}.
std::string notification_message(boost::json::object notification);

}  // namespace bazaar::edge
