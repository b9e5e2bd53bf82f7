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
  /// `unknown_product_grace`: how long a reservation naming a product with no stock row yet is
  /// retried before it is rejected; ReserveStock and catalog.events are different topics, so a
  /// reservation can overtake the ProductCreated that creates the stock.
  InventoryHandler(std::chrono::seconds reservation_ttl,
                   std::chrono::milliseconds unknown_product_grace)
      : ttl_(reservation_ttl), unknown_product_grace_(unknown_product_grace) {}

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
  std::chrono::milliseconds unknown_product_grace_;
};

}  // namespace bazaar::inventory
