#pragma once

#include <chrono>
#include <string>

#include "contracts/contracts.hpp"
#include "events/handler.hpp"
#include "inventory_events.hpp"
#include "inventory_store.hpp"

namespace bazaar::inventory {

/// Applies inventory commands and the catalog events that create and delete stock: each
/// decision and its SQL in the processor's transaction, each outcome an event.
class InventoryHandler final : public events::DispatchHandler<InventoryHandler> {
 public:
  /// `reservation_ttl`: how long a reservation holds stock before it expires.
  /// `unknown_product_grace`: how long a reservation naming a product with no stock row yet is
  /// retried before it is rejected; ReserveStock and catalog.events are different topics, so a
  /// reservation can overtake the ProductCreated that creates the stock.
  InventoryHandler(std::chrono::seconds reservation_ttl,
                   std::chrono::milliseconds unknown_product_grace)
      : ttl_(reservation_ttl), unknown_product_grace_(unknown_product_grace) {
    on(&InventoryHandler::product_created);
    on(&InventoryHandler::product_deleted);
    on(&InventoryHandler::reserve);
    on(&InventoryHandler::release);
    on(&InventoryHandler::commit);
    on(&InventoryHandler::adjust, &InventoryHandler::reject_unstorable_adjustment);
  }

  /// Stock rows are shared across orders: every transaction locks reservations before stock,
  /// each in ascending id. A batch takes all of its locks that way before its first record
  /// (the reservation expiry skips locked reservations, so it never waits on one).
  void lock_ahead(soci::session& sql, const std::vector<const events::Envelope*>& batch) override;
  /// A transaction starts with no stock rows or reservations read and no level pending; before
  /// it commits, it writes the rows and reservations it changed and emits one StockLevelChanged
  /// per product it moved.
  void begin(soci::session& sql) override;
  void before_commit(soci::session& sql, events::OutboxWriter& outbox) override;

 private:
  void product_created(events::HandlerContext& ctx,
                       const contracts::catalog::ProductCreatedV1& event);
  void product_deleted(events::HandlerContext& ctx,
                       const contracts::catalog::ProductDeletedV1& event);
  void reserve(events::HandlerContext& ctx, const contracts::inventory::ReserveStockV1& cmd);
  void release(events::HandlerContext& ctx, const contracts::inventory::ReleaseStockV1& cmd);
  void commit(events::HandlerContext& ctx, const contracts::inventory::CommitReservationV1& cmd);
  void adjust(events::HandlerContext& ctx, const contracts::inventory::AdjustStockV1& cmd);
  /// An AdjustStock holding a value no column can hold: StockAdjustRejected (invalid). The saga's
  /// commands (reserve, release, commit) have no refusal: only the order service sends them,
  /// never with such values, so one that holds them is dead-lettered.
  void reject_unstorable_adjustment(events::HandlerContext& ctx,
                                    const events::UnstorableValue& value);

  std::chrono::seconds ttl_;
  StockBook stock_;
  ReservationBook reservations_;
  LevelChanges levels_;
  std::chrono::milliseconds unknown_product_grace_;
};

}  // namespace bazaar::inventory
