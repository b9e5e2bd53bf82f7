#include "catalog_projection.hpp"

#include <soci/soci.h>

#include <boost/json/serialize.hpp>

#include "events/envelope.hpp"
#include "events/json_fields.hpp"

namespace bazaar::edge {
namespace {

using events::required_int;
using events::required_string;
using events::string_or_empty;

constexpr const char* kProductCreated = "bazaar.catalog.ProductCreated.v1";
constexpr const char* kProductUpdated = "bazaar.catalog.ProductUpdated.v1";
constexpr const char* kProductDeleted = "bazaar.catalog.ProductDeleted.v1";
constexpr const char* kProductCommandRejected = "bazaar.catalog.ProductCommandRejected.v1";
constexpr const char* kStockLevelChanged = "bazaar.inventory.StockLevelChanged.v1";
constexpr const char* kNotificationCreated = "bazaar.notification.NotificationCreated.v1";

// The API usually inserted the row already (read-your-writes); the event then confirms the
// catalog's fields but keeps the row's status, stock and created_at: a later delete, stock
// change or the API's own timestamp must not be undone by a late ProductCreated. Without a
// row (a rebuild), stock is inventory's last word if one came first, else initial_stock.
constexpr const char* kUpsertCreated = R"sql(
INSERT INTO products_view (product_id, seller_id, name, description, price, currency, category,
                           stock, status, created_at, updated_at)
VALUES (CAST(:product_id AS uuid), CAST(:seller_id AS uuid), :name, :description, :price,
        :currency, :category,
        COALESCE((SELECT available FROM product_stock_view
                  WHERE product_id = CAST(:stock_product_id AS uuid)), :initial_stock),
        'active', CAST(:created_at AS timestamptz), now())
ON CONFLICT (product_id) DO UPDATE
SET seller_id = EXCLUDED.seller_id, name = EXCLUDED.name, description = EXCLUDED.description,
    price = EXCLUDED.price, currency = EXCLUDED.currency, category = EXCLUDED.category,
    updated_at = now())sql";

constexpr const char* kUpdateFields = R"sql(
UPDATE products_view
SET seller_id = CAST(:seller_id AS uuid), name = :name, description = :description,
    price = :price, currency = :currency, category = :category, updated_at = now()
WHERE product_id = CAST(:product_id AS uuid))sql";

constexpr const char* kMarkDeleted = R"sql(
UPDATE products_view SET status = 'deleted', updated_at = now()
WHERE product_id = CAST(:product_id AS uuid))sql";

constexpr const char* kRememberStock = R"sql(
INSERT INTO product_stock_view (product_id, available, updated_at)
VALUES (CAST(:product_id AS uuid), :available, now())
ON CONFLICT (product_id) DO UPDATE SET available = EXCLUDED.available, updated_at = now())sql";

constexpr const char* kSetStock = R"sql(
UPDATE products_view SET stock = :available, updated_at = now()
WHERE product_id = CAST(:product_id AS uuid) AND status = 'active')sql";

constexpr const char* kInsertNotification = R"sql(
INSERT INTO notifications_view (notification_id, recipient_id, kind, order_id, title, body,
                                created_at)
VALUES (CAST(:notification_id AS uuid), CAST(:recipient_id AS uuid), :kind,
        CAST(:order_id AS uuid), :title, :body, CAST(:created_at AS timestamptz))
ON CONFLICT (notification_id) DO NOTHING)sql";

// Event times as clients see them everywhere: RFC 3339 UTC with milliseconds.
std::string normalised_time(const std::string& text) {
  const auto t = events::parse_rfc3339(text);
  if (!t) throw events::PermanentError("not an RFC 3339 time: " + text);
  return events::format_rfc3339(*t);
}

}  // namespace

std::vector<std::string> CatalogProjection::topics() {
  return {"catalog.events", "inventory.events", "notification.events"};
}

CatalogProjection::CatalogProjection(WebSocketPublisher* publisher) : publisher_(publisher) {}

void CatalogProjection::set_publisher(WebSocketPublisher* publisher) {
  publisher_.store(publisher, std::memory_order_release);
}

bool CatalogProjection::wants(const std::string& type) const {
  return type == kProductCreated || type == kProductUpdated || type == kProductDeleted ||
         type == kProductCommandRejected || type == kStockLevelChanged ||
         type == kNotificationCreated;
}

void CatalogProjection::apply(events::HandlerContext& ctx) {
  const std::string& type = ctx.event.type;
  if (!ctx.event.data.is_object()) throw events::PermanentError(type + " payload is not an object");
  if (type == kProductCreated) return product_created(ctx);
  if (type == kProductUpdated) return product_updated(ctx);
  if (type == kProductDeleted) return product_deleted(ctx);
  if (type == kProductCommandRejected) return command_rejected(ctx);
  if (type == kStockLevelChanged) return stock_changed(ctx);
  if (type == kNotificationCreated) return notification_created(ctx);
}

void CatalogProjection::product_created(events::HandlerContext& ctx) {
  const auto& data = ctx.event.data.as_object();
  std::string product_id = required_string(data, "product_id");
  std::string stock_product_id = product_id;
  std::string seller_id = required_string(data, "seller_id");
  std::string name = required_string(data, "name");
  std::string description = string_or_empty(data, "description");
  long long price = required_int(data, "price");
  std::string currency = required_string(data, "currency");
  std::string category = required_string(data, "category");
  long long initial_stock = required_int(data, "initial_stock");
  std::string created_at = normalised_time(required_string(data, "created_at"));
  ctx.sql << kUpsertCreated, soci::use(product_id, "product_id"), soci::use(seller_id, "seller_id"),
      soci::use(name, "name"), soci::use(description, "description"), soci::use(price, "price"),
      soci::use(currency, "currency"), soci::use(category, "category"),
      soci::use(stock_product_id, "stock_product_id"), soci::use(initial_stock, "initial_stock"),
      soci::use(created_at, "created_at");
}

void CatalogProjection::product_updated(events::HandlerContext& ctx) {
  // ProductUpdated carries the whole new state; it follows its ProductCreated on the same
  // partition, so the row exists unless the view was truncated without a replay.
  const auto& data = ctx.event.data.as_object();
  std::string product_id = required_string(data, "product_id");
  std::string seller_id = required_string(data, "seller_id");
  std::string name = required_string(data, "name");
  std::string description = string_or_empty(data, "description");
  long long price = required_int(data, "price");
  std::string currency = required_string(data, "currency");
  std::string category = required_string(data, "category");
  ctx.sql << kUpdateFields, soci::use(seller_id, "seller_id"), soci::use(name, "name"),
      soci::use(description, "description"), soci::use(price, "price"),
      soci::use(currency, "currency"), soci::use(category, "category"),
      soci::use(product_id, "product_id");
}

void CatalogProjection::product_deleted(events::HandlerContext& ctx) {
  std::string product_id = required_string(ctx.event.data.as_object(), "product_id");
  ctx.sql << kMarkDeleted, soci::use(product_id, "product_id");
}

void CatalogProjection::command_rejected(events::HandlerContext& ctx) {
  // The API showed a new product before the catalog accepted it; a refused creation takes
  // it off the listing again. ("already_exists" means the product is there after all.)
  const auto& data = ctx.event.data.as_object();
  if (string_or_empty(data, "command") != "bazaar.catalog.CreateProduct.v1" ||
      string_or_empty(data, "reason") == "already_exists") {
    return;
  }
  std::string product_id = required_string(data, "product_id");
  ctx.sql << kMarkDeleted, soci::use(product_id, "product_id");
}

void CatalogProjection::stock_changed(events::HandlerContext& ctx) {
  const auto& data = ctx.event.data.as_object();
  std::string product_id = required_string(data, "product_id");
  std::string view_product_id = product_id;
  long long available = required_int(data, "available");
  long long view_available = available;
  ctx.sql << kRememberStock, soci::use(product_id, "product_id"), soci::use(available, "available");
  soci::statement set = (ctx.sql.prepare << kSetStock, soci::use(view_available, "available"),
                         soci::use(view_product_id, "product_id"));
  set.execute(true);
  // Only listed products are worth telling every session about.
  if (set.get_affected_rows() == 0) return;
  // Pushed once the transaction committed: a rolled-back try pushes nothing.
  ctx.after_commit([this, message = stock_message(product_id, available)] {
    if (auto* out = publisher_.load(std::memory_order_acquire)) out->broadcast(message);
  });
}

void CatalogProjection::notification_created(events::HandlerContext& ctx) {
  const auto& data = ctx.event.data.as_object();
  std::string notification_id = required_string(data, "notification_id");
  std::string recipient_id = required_string(data, "recipient_id");
  std::string kind = required_string(data, "kind");
  std::string order_id = string_or_empty(data, "order_id");
  soci::indicator order_ind = order_id.empty() ? soci::i_null : soci::i_ok;
  std::string title = required_string(data, "title");
  std::string body = required_string(data, "body");
  std::string created_at = normalised_time(required_string(data, "created_at"));
  soci::statement insert =
      (ctx.sql.prepare << kInsertNotification, soci::use(notification_id, "notification_id"),
       soci::use(recipient_id, "recipient_id"), soci::use(kind, "kind"),
       soci::use(order_id, order_ind, "order_id"), soci::use(title, "title"),
       soci::use(body, "body"), soci::use(created_at, "created_at"));
  insert.execute(true);
  // The same notification under another event id: stored once, pushed once.
  if (insert.get_affected_rows() == 0) return;
  ctx.after_commit([this, recipient_id,
                    message = notification_message(notification_json(
                        notification_id, kind, order_id, title, body, created_at))] {
    if (auto* out = publisher_.load(std::memory_order_acquire)) out->send_to_user(recipient_id, message);
  });
}

std::string stock_message(const std::string& product_id, std::int64_t stock) {
  return boost::json::serialize(
      boost::json::object{{"type", "stock"}, {"product_id", product_id}, {"stock", stock}});
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
