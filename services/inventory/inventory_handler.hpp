#pragma once

#include <chrono>
#include <string>

#include "events/processor.hpp"

namespace bazaar::inventory {

/// Applies inventory commands and the catalog events that create and delete stock: each
/// decision and its SQL in the processor's transaction, each outcome an event.
class InventoryHandler final : public events::Handler {
 public:
  /// `reservation_ttl`: how long a reservation holds stock before it expires.
  explicit InventoryHandler(std::chrono::seconds reservation_ttl) : ttl_(reservation_ttl) {}

  bool wants(const std::string& type) const override;
  /// Stock rows are shared across orders and locked in sorted order per record.
  bool batchable() const override { return false; }
  void apply(events::HandlerContext& ctx) override;

 private:
  void product_created(events::HandlerContext& ctx);
  void product_deleted(events::HandlerContext& ctx);
  void reserve(events::HandlerContext& ctx);
  void release(events::HandlerContext& ctx);
  void commit(events::HandlerContext& ctx);
  void adjust(events::HandlerContext& ctx);

  std::chrono::seconds ttl_;
};

}  // namespace bazaar::inventory
