#pragma once

#include "events/processor.hpp"
#include "saga_store.hpp"

namespace bazaar::order {

/// Applies order commands, saga replies and catalog prices: one transaction each, through
/// the saga's pure decision and the store.
class OrderHandler final : public events::Handler {
 public:
  explicit OrderHandler(const SagaStore& store) : store_(store) {}
  bool wants(const std::string& type) const override;
  void apply(events::HandlerContext& ctx) override;

 private:
  void place(events::HandlerContext& ctx);
  void project_price(events::HandlerContext& ctx);
  void advance(events::HandlerContext& ctx, Input input, const std::string& reason);

  const SagaStore& store_;
};

}  // namespace bazaar::order
