#pragma once

#include <optional>
#include <string>

#include "events/processor.hpp"
#include "product.hpp"

namespace bazaar::catalog {

/// Applies catalog commands: decides with the product policy, changes `products`, and emits
/// the outcome (ProductCreated/Updated/Deleted or ProductCommandRejected) on catalog.events.
class CatalogHandler final : public events::Handler {
 public:
  bool wants(const std::string& type) const override;
  void apply(events::HandlerContext& ctx) override;

  /// The topic every outcome goes to.
  static constexpr const char* kTopic = "catalog.events";

 private:
  void create(events::HandlerContext& ctx);
  void update(events::HandlerContext& ctx);
  void remove(events::HandlerContext& ctx);
};

}  // namespace bazaar::catalog
