#pragma once

#include <chrono>

#include "events/processor.hpp"
#include "saga_store.hpp"

namespace bazaar::order {

/// Applies order commands, saga replies and catalog prices: one transaction each, through
/// the saga's pure decision and the store.
class OrderHandler final : public events::Handler {
 public:
  /// `unknown_product_grace`: how long an order for a product not yet in the price projection
  /// is retried before it is rejected; PlaceOrder and catalog.events travel on different
  /// topics, so an order may overtake the event that lists its product.
  OrderHandler(const SagaStore& store, std::chrono::milliseconds unknown_product_grace)
      : store_(store), unknown_product_grace_(unknown_product_grace) {}
  bool wants(const std::string& type) const override;
  void apply(events::HandlerContext& ctx) override;

 private:
  void place(events::HandlerContext& ctx);
  void project_price(events::HandlerContext& ctx);
  void advance(events::HandlerContext& ctx, Input input, const std::string& reason);

  const SagaStore& store_;
  std::chrono::milliseconds unknown_product_grace_;
};

}  // namespace bazaar::order
