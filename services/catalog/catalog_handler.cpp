#include "catalog_handler.hpp"

#include <soci/soci.h>
#include <spdlog/spdlog.h>

#include <chrono>

#include "commands.hpp"
#include "product_policy.hpp"

namespace bazaar::catalog {
namespace {

using contracts::topic::kCatalogEvents;

// Locks the row so that two commands for one product (possible during a rebalance) apply
// one after the other.
constexpr const char* kSelectProduct = R"sql(
SELECT CAST(seller_id AS text), name, description, price, currency, category, status,
       CAST(floor(extract(epoch FROM created_at) * 1000) AS bigint),
       CAST(floor(extract(epoch FROM updated_at) * 1000) AS bigint)
FROM products WHERE product_id = CAST(:product_id AS uuid)
FOR UPDATE)sql";

constexpr const char* kInsertProduct = R"sql(
INSERT INTO products (product_id, seller_id, name, description, price, currency, category,
                      status, created_at, updated_at)
VALUES (CAST(:product_id AS uuid), CAST(:seller_id AS uuid), :name, :description, :price,
        :currency, :category, 'ACTIVE', CAST(:created_at AS timestamptz),
        CAST(:updated_at AS timestamptz))
ON CONFLICT (product_id) DO NOTHING)sql";

constexpr const char* kSetProductFields = R"sql(
UPDATE products
SET name = :name, description = :description, price = :price, category = :category,
    updated_at = CAST(:updated_at AS timestamptz)
WHERE product_id = CAST(:product_id AS uuid))sql";

constexpr const char* kMarkProductDeleted = R"sql(
UPDATE products SET status = 'DELETED', updated_at = CAST(:updated_at AS timestamptz)
WHERE product_id = CAST(:product_id AS uuid))sql";

std::string from_epoch_ms(long long ms) {
  return events::format_rfc3339(events::Clock::time_point{std::chrono::milliseconds{ms}});
}

std::optional<Product> load_for_update(soci::session& sql, const std::string& product_id) {
  Product p;
  std::string status;
  long long price = 0;
  long long created_ms = 0;
  long long updated_ms = 0;
  sql << kSelectProduct, soci::use(product_id, "product_id"), soci::into(p.seller_id),
      soci::into(p.name), soci::into(p.description), soci::into(price), soci::into(p.currency),
      soci::into(p.category), soci::into(status), soci::into(created_ms), soci::into(updated_ms);
  if (!sql.got_data()) return std::nullopt;
  const auto parsed = parse_status(status);
  if (!parsed) throw std::logic_error("products row with unknown status " + status);
  p.product_id = product_id;
  p.price = price;
  p.status = *parsed;
  p.created_at = from_epoch_ms(created_ms);
  p.updated_at = from_epoch_ms(updated_ms);
  return p;
}

std::optional<ProductOwnership> ownership(const std::optional<Product>& p) {
  if (!p) return std::nullopt;
  return ownership_of(*p);
}

void reject(events::HandlerContext& ctx, const std::string& product_id, const Rejection& why,
            const std::string& actor_id) {
  spdlog::info("{} for product {} rejected: {}", ctx.event.type, product_id, to_string(why.reason));
  ctx.emit(kCatalogEvents, product_id, rejected_payload(product_id, ctx.event.type, why, actor_id));
}

}  // namespace

CatalogHandler::CatalogHandler() {
  on(&CatalogHandler::create, &CatalogHandler::reject_unstorable);
  on(&CatalogHandler::update, &CatalogHandler::reject_unstorable);
  on(&CatalogHandler::remove, &CatalogHandler::reject_unstorable);
}

void CatalogHandler::reject_unstorable(events::HandlerContext& ctx,
                                       const events::UnstorableValue& value) {
  // A creation without actor fields is the seller's own, as command_of() reads it.
  reject(ctx, events::refused_id(ctx, "product_id"), {Refusal::invalid, value.message()},
         events::refused_id_or_empty(ctx, {"actor_id", "seller_id"}));
}

void CatalogHandler::create(events::HandlerContext& ctx,
                            const contracts::catalog::CreateProductV1& payload) {
  auto cmd = command_of(payload);
  Product& p = cmd.product;
  const auto existing = load_for_update(ctx.sql, p.product_id);
  if (auto why = decide_create(cmd.actor, p.seller_id, ownership(existing))) {
    reject(ctx, p.product_id, *why, cmd.actor.id);
    return;
  }
  p.created_at = events::format_rfc3339(ctx.clock.now());
  p.updated_at = p.created_at;
  const long long price = p.price;
  soci::statement insert =
      (ctx.sql.prepare << kInsertProduct, soci::use(p.product_id, "product_id"),
       soci::use(p.seller_id, "seller_id"), soci::use(p.name, "name"),
       soci::use(p.description, "description"), soci::use(price, "price"),
       soci::use(p.currency, "currency"), soci::use(p.category, "category"),
       soci::use(p.created_at, "created_at"), soci::use(p.updated_at, "updated_at"));
  insert.execute(true);
  if (insert.get_affected_rows() == 0) {
    // Another instance inserted it between our lookup and insert.
    reject(ctx, p.product_id, {Refusal::already_exists, "a product with this id exists"},
           cmd.actor.id);
    return;
  }
  ctx.emit(kCatalogEvents, p.product_id, created_payload(p, cmd.initial_stock));
}

void CatalogHandler::update(events::HandlerContext& ctx,
                            const contracts::catalog::UpdateProductV1& payload) {
  const auto cmd = command_of(payload);
  auto existing = load_for_update(ctx.sql, cmd.product_id);
  if (auto why = decide_update(cmd.actor, ownership(existing))) {
    reject(ctx, cmd.product_id, *why, cmd.actor.id);
    return;
  }
  Product& p = *existing;
  apply_changes(p, cmd);
  p.updated_at = events::format_rfc3339(ctx.clock.now());
  const long long price = p.price;
  ctx.sql << kSetProductFields, soci::use(p.name, "name"), soci::use(p.description, "description"),
      soci::use(price, "price"), soci::use(p.category, "category"),
      soci::use(p.updated_at, "updated_at"), soci::use(p.product_id, "product_id");
  ctx.emit(kCatalogEvents, p.product_id, updated_payload(p));
}

void CatalogHandler::remove(events::HandlerContext& ctx,
                            const contracts::catalog::DeleteProductV1& payload) {
  const auto cmd = command_of(payload);
  auto existing = load_for_update(ctx.sql, cmd.product_id);
  if (auto why = decide_delete(cmd.actor, ownership(existing))) {
    reject(ctx, cmd.product_id, *why, cmd.actor.id);
    return;
  }
  Product& p = *existing;
  p.status = ProductStatus::deleted;
  p.updated_at = events::format_rfc3339(ctx.clock.now());
  ctx.sql << kMarkProductDeleted, soci::use(p.updated_at, "updated_at"),
      soci::use(p.product_id, "product_id");
  ctx.emit(kCatalogEvents, p.product_id, deleted_payload(p, p.updated_at));
}

}  // namespace bazaar::catalog
