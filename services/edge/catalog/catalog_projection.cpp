#include "catalog/catalog_projection.hpp"

#include <soci/soci.h>

#include <boost/json/serialize.hpp>
#include <memory>
#include <stdexcept>

#include "events/db.hpp"
#include "events/envelope.hpp"
#include "events/uuid.hpp"

namespace bazaar::edge {
namespace {

// The API usually inserted the row already (read-your-writes); the event then confirms the
// catalog's fields but keeps the row's status, stock and created_at: a later delete, stock
// change or the API's own timestamp must not be undone by a late ProductCreated. Without a
// row (a rebuild), stock is inventory's last word if one came first, else initial_stock.
// While the API awaits the answer to a later command (a PATCH since), the row is newer than
// this event and keeps its fields (migration 012).
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
    awaiting_command = NULL, awaiting_since = NULL, updated_at = now()
WHERE products_view.awaiting_command IS NULL
   OR products_view.awaiting_command = CAST(NULLIF(:cause, '') AS uuid)
   OR products_view.awaiting_since < now() - interval '5 minutes')sql";

// The same rule: an answer to an older command than the one awaited changes nothing.
constexpr const char* kUpdateFields = R"sql(
UPDATE products_view
SET seller_id = CAST(:seller_id AS uuid), name = :name, description = :description,
    price = :price, currency = :currency, category = :category, awaiting_command = NULL,
    awaiting_since = NULL, updated_at = now()
WHERE product_id = CAST(:product_id AS uuid)
  AND (awaiting_command IS NULL OR awaiting_command = CAST(NULLIF(:cause, '') AS uuid)
       OR awaiting_since < now() - interval '5 minutes'))sql";

// A refusal of the awaited command: the catalog will not answer it otherwise, so its later
// events apply again.
constexpr const char* kStopAwaiting = R"sql(
UPDATE products_view SET awaiting_command = NULL, awaiting_since = NULL
WHERE product_id = CAST(:product_id AS uuid)
  AND awaiting_command = CAST(NULLIF(:cause, '') AS uuid))sql";

constexpr const char* kMarkDeleted = R"sql(
UPDATE products_view SET status = 'deleted', updated_at = now()
WHERE product_id = CAST(:product_id AS uuid))sql";

// A stock level moves with every saga, so its two statements are prepared once per connection
// (events::PreparedStatement): parsing and planning them cost the server more than running
// them. Inventory's last word is remembered, and the listed row takes it unless the API awaits
// the answer to a later stock command (migration 012); the row's stock comes back when it did.
const events::PreparedStatement kSetStock{"edge_catalog_stock", R"sql(
WITH remembered AS (
  INSERT INTO product_stock_view (product_id, available, updated_at)
  VALUES (CAST($1 AS uuid), CAST($2 AS bigint), now())
  ON CONFLICT (product_id) DO UPDATE SET available = EXCLUDED.available, updated_at = now())
UPDATE products_view
SET stock = CAST($2 AS bigint), awaiting_stock_command = NULL, awaiting_stock_since = NULL,
    updated_at = now()
WHERE product_id = CAST($1 AS uuid) AND status = 'active'
  AND (awaiting_stock_command IS NULL
       OR awaiting_stock_command = CAST(NULLIF($3, '') AS uuid)
       OR awaiting_stock_since < now() - interval '5 minutes')
RETURNING stock)sql"};

// Inventory refused the awaited stock command: the row shows inventory's last word again.
constexpr const char* kRestoreStock = R"sql(
UPDATE products_view
SET stock = COALESCE((SELECT available FROM product_stock_view
                      WHERE product_id = CAST(:stock_product_id AS uuid)), stock),
    awaiting_stock_command = NULL, awaiting_stock_since = NULL, updated_at = now()
WHERE product_id = CAST(:product_id AS uuid) AND status = 'active'
  AND awaiting_stock_command = CAST(NULLIF(:cause, '') AS uuid)
RETURNING stock)sql";

// The command an event answers, as the view stores command ids: canonical, or empty when the
// event names none or something that is not a UUID (it then answers no command edge awaits).
std::string cause_of(const events::HandlerContext& ctx) {
  const auto id = events::Uuid::parse(ctx.event.causation_id);
  return id ? id->str() : std::string{};
}

}  // namespace

std::string normalised_time(const std::string& text) {
  const auto t = events::parse_rfc3339(text);
  if (!t) throw events::PermanentError("not an RFC 3339 time: " + text);
  return events::format_rfc3339(*t);
}

std::vector<std::string> CatalogProjection::topics() {
  return {contracts::topic::kCatalogEvents, contracts::topic::kInventoryEvents};
}

CatalogProjection::CatalogProjection(const LivePush& live, ProductCache* cache)
    : live_(live), cache_(cache) {
  on(&CatalogProjection::product_created);
  on(&CatalogProjection::product_updated);
  on(&CatalogProjection::product_deleted);
  on(&CatalogProjection::command_rejected);
  on(&CatalogProjection::stock_changed);
  on(&CatalogProjection::adjust_rejected);
}

void CatalogProjection::changing(events::HandlerContext& ctx, const std::string& product_id) {
  if (cache_ == nullptr) return;
  // Without a list of effects the Change would end before the commit: a bug, not a state.
  if (ctx.on_commit == nullptr) throw std::logic_error("catalog projection run without effects");
  // The effects registered with after_commit() are dropped once the transaction ended, run
  // or not: the last copy of the pointer releases the Change then.
  auto change = std::make_shared<ProductCache::Change>(*cache_, product_id);
  ctx.after_commit([change] {});
}

void CatalogProjection::product_created(events::HandlerContext& ctx,
                                        const contracts::catalog::ProductCreatedV1& e) {
  changing(ctx, e.product_id);
  const std::string cause = cause_of(ctx);
  const std::string created_at = normalised_time(e.created_at);
  ctx.sql << kUpsertCreated, soci::use(e.product_id, "product_id"),
      soci::use(e.seller_id, "seller_id"), soci::use(e.name, "name"),
      soci::use(e.description, "description"), soci::use(e.price, "price"),
      soci::use(e.currency, "currency"), soci::use(e.category, "category"),
      soci::use(e.product_id, "stock_product_id"), soci::use(e.initial_stock, "initial_stock"),
      soci::use(created_at, "created_at"), soci::use(cause, "cause");
}

void CatalogProjection::product_updated(events::HandlerContext& ctx,
                                        const contracts::catalog::ProductUpdatedV1& e) {
  changing(ctx, e.product_id);
  const std::string cause = cause_of(ctx);
  // ProductUpdated carries the whole new state; it follows its ProductCreated on the same
  // partition, so the row exists unless the view was truncated without a replay.
  ctx.sql << kUpdateFields, soci::use(e.seller_id, "seller_id"), soci::use(e.name, "name"),
      soci::use(e.description, "description"), soci::use(e.price, "price"),
      soci::use(e.currency, "currency"), soci::use(e.category, "category"),
      soci::use(e.product_id, "product_id"), soci::use(cause, "cause");
}

void CatalogProjection::product_deleted(events::HandlerContext& ctx,
                                        const contracts::catalog::ProductDeletedV1& e) {
  changing(ctx, e.product_id);
  ctx.sql << kMarkDeleted, soci::use(e.product_id, "product_id");
}

void CatalogProjection::command_rejected(events::HandlerContext& ctx,
                                         const contracts::catalog::ProductCommandRejectedV1& e) {
  changing(ctx, e.product_id);
  const std::string cause = cause_of(ctx);
  ctx.sql << kStopAwaiting, soci::use(e.product_id, "product_id"), soci::use(cause, "cause");
  // The API showed a new product before the catalog accepted it; a refused creation takes
  // it off the listing again. ("already_exists" means the product is there after all.)
  if (e.command != contracts::catalog::CreateProductV1::kType || e.reason == "already_exists") {
    return;
  }
  ctx.sql << kMarkDeleted, soci::use(e.product_id, "product_id");
}

void CatalogProjection::stock_changed(events::HandlerContext& ctx,
                                      const contracts::inventory::StockLevelChangedV1& e) {
  changing(ctx, e.product_id);
  const std::string cause = cause_of(ctx);
  const std::string available = std::to_string(e.available);
  // Only listed products are worth telling every session about.
  if (kSetStock.run(ctx.sql, {&e.product_id, &available, &cause}) == 0) return;
  push_stock(ctx, e.product_id, e.available);
}

void CatalogProjection::adjust_rejected(events::HandlerContext& ctx,
                                        const contracts::inventory::StockAdjustRejectedV1& e) {
  changing(ctx, e.product_id);
  const std::string cause = cause_of(ctx);
  long long stock = 0;
  ctx.sql << kRestoreStock, soci::use(e.product_id, "stock_product_id"),
      soci::use(e.product_id, "product_id"), soci::use(cause, "cause"), soci::into(stock);
  if (ctx.sql.got_data()) push_stock(ctx, e.product_id, stock);
}

void CatalogProjection::push_stock(events::HandlerContext& ctx, const std::string& product_id,
                                   std::int64_t stock) {
  // Pushed once the transaction committed: a rolled-back try pushes nothing.
  ctx.after_commit(
      [this, message = stock_message(product_id, stock)] { live_.broadcast(message); });
}

std::string stock_message(const std::string& product_id, std::int64_t stock) {
  return boost::json::serialize(
      boost::json::object{{"type", "stock"}, {"product_id", product_id}, {"stock", stock}});
}

}  // namespace bazaar::edge
