#include "catalog/catalog_projection.hpp"

#include <doctest/doctest.h>

#include <boost/json/parse.hpp>

#include "notifications/notification_projection.hpp"

using namespace bazaar::edge;

TEST_CASE("the projections follow their topics and event types") {
  const LivePush live;
  const CatalogProjection catalog(live);
  CHECK(CatalogProjection::topics() ==
        std::vector<std::string>{"catalog.events", "inventory.events"});
  CHECK(catalog.wants("bazaar.catalog.ProductCreated.v1"));
  CHECK(catalog.wants("bazaar.catalog.ProductUpdated.v1"));
  CHECK(catalog.wants("bazaar.catalog.ProductDeleted.v1"));
  CHECK(catalog.wants("bazaar.inventory.StockLevelChanged.v1"));
  CHECK(catalog.wants("bazaar.inventory.StockAdjustRejected.v1"));
  CHECK_FALSE(catalog.wants("bazaar.inventory.StockReserved.v1"));
  CHECK_FALSE(catalog.wants("bazaar.catalog.CreateProduct.v1"));
  const NotificationProjection notifications(live);
  CHECK(notifications.wants("bazaar.notification.NotificationCreated.v1"));
  CHECK_FALSE(notifications.wants("bazaar.catalog.ProductCreated.v1"));
}

TEST_CASE("a stock change message") {
  const auto v = boost::json::parse(stock_message("p-1", 7));
  CHECK(v == boost::json::parse(R"({"type":"stock","product_id":"p-1","stock":7})"));
}

TEST_CASE("a notification message names the order only when there is one") {
  const auto with_order = boost::json::parse(notification_message(notification_json(
      "n-1", "order_confirmed", "o-1", "Confirmed", "Thanks", "2026-01-02T03:04:05.678Z")));
  CHECK(with_order ==
        boost::json::parse(
            R"({"type":"notification","notification":{"id":"n-1","kind":"order_confirmed",)"
            R"("order_id":"o-1","title":"Confirmed","body":"Thanks",)"
            R"("created_at":"2026-01-02T03:04:05.678Z"}})"));
  const auto without =
      notification_json("n-2", "otp", "", "Code", "123456", "2026-01-02T03:04:05.678Z");
  CHECK_FALSE(without.contains("order_id"));
}
