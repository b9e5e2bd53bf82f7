#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "catalog/product_cache.hpp"
#include "contracts/contracts.hpp"
#include "events/handler.hpp"
#include "http/live_push.hpp"

namespace bazaar::edge {

/// The edge's catalog read models: products_view and product_stock_view from catalog.events
/// and inventory.events. Stock changes of listed products are pushed to every open session.
class CatalogProjection final : public events::DispatchHandler<CatalogProjection> {
 public:
  static constexpr const char* kGroup = "edge-catalog";
  /// The topics of kGroup.
  static std::vector<std::string> topics();

  /// `cache`, when set, is told of every change to products_view (see ProductCache::Change).
  explicit CatalogProjection(const LivePush& live, ProductCache* cache = nullptr);

 private:
  void product_created(events::HandlerContext& ctx, const contracts::catalog::ProductCreatedV1& e);
  void product_updated(events::HandlerContext& ctx, const contracts::catalog::ProductUpdatedV1& e);
  void product_deleted(events::HandlerContext& ctx, const contracts::catalog::ProductDeletedV1& e);
  void command_rejected(events::HandlerContext& ctx,
                        const contracts::catalog::ProductCommandRejectedV1& e);
  void stock_changed(events::HandlerContext& ctx,
                     const contracts::inventory::StockLevelChangedV1& e);
  void adjust_rejected(events::HandlerContext& ctx,
                       const contracts::inventory::StockAdjustRejectedV1& e);
  // Tells every open session the product's new stock once the transaction committed.
  void push_stock(events::HandlerContext& ctx, const std::string& product_id, std::int64_t stock);
  // Holds a Change of product `product_id` until this record's transaction has ended.
  void changing(events::HandlerContext& ctx, const std::string& product_id);

  const LivePush& live_;
  ProductCache* cache_;
};

/// The live message of a stock change: {"type":"stock","product_id","stock"}.
std::string stock_message(const std::string& product_id, std::int64_t stock);

/// Event times as clients see them everywhere: RFC 3339 UTC with milliseconds.
std::string normalised_time(const std::string& text);

}  // namespace bazaar::edge
