#pragma once

#include <optional>
#include <string>

#include "contracts/contracts.hpp"
#include "events/handler.hpp"
#include "product.hpp"

namespace bazaar::catalog {

/// Applies catalog commands: decides with the product policy, changes `products`, and emits
/// the outcome (ProductCreated/Updated/Deleted or ProductCommandRejected) on catalog.events.
class CatalogHandler final : public events::DispatchHandler<CatalogHandler> {
 public:
  CatalogHandler();

 private:
  void create(events::HandlerContext& ctx, const contracts::catalog::CreateProductV1& payload);
  void update(events::HandlerContext& ctx, const contracts::catalog::UpdateProductV1& payload);
  void remove(events::HandlerContext& ctx, const contracts::catalog::DeleteProductV1& payload);
  /// A command holding a value no column can hold: ProductCommandRejected (invalid), naming it.
  void reject_unstorable(events::HandlerContext& ctx, const events::UnstorableValue& value);
};

}  // namespace bazaar::catalog
