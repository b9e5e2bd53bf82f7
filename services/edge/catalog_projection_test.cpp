#include "catalog_projection.hpp"

#include <doctest/doctest.h>

#include <boost/json/parse.hpp>

using namespace bazaar::edge;

TEST_CASE("the projection follows its three topics and the catalog side event types") {
  CatalogProjection projection;
  CHECK(CatalogProjection::topics() ==
        std::vector<std::string>{"catalog.events", "inventory.events", "notification.events"});
  CHECK(projection.wants("bazaar.catalog.ProductCreated.v1"));
  CHECK(projection.wants("bazaar.catalog.ProductUpdated.v1"));
  CHECK(projection.wants("bazaar.catalog.ProductDeleted.v1"));
  CHECK(projection.wants("bazaar.inventory.StockLevelChanged.v1"));
  CHECK(projection.wants("bazaar.notification.NotificationCreated.v1"));
  CHECK_FALSE(projection.wants("bazaar.inventory.StockReserved.v1"));
  CHECK_FALSE(projection.wants("bazaar.catalog.CreateProduct.v1"));
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
