#include "inventory_handler.hpp"

#include <soci/soci.h>

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <optional>
#include <set>
#include <stdexcept>
#include <string_view>

#include "adjustment.hpp"
#include "events/envelope.hpp"
#include "events/fields.hpp"
#include "inventory_events.hpp"
#include "inventory_store.hpp"
#include "reservation.hpp"
#include "reservation_lifecycle.hpp"
#include "stock_release.hpp"

namespace bazaar::inventory {
namespace {

// Creating stock twice (a replayed ProductCreated) keeps the first.
constexpr const char* kCreateStock = R"sql(
INSERT INTO stock (product_id, seller_id, on_hand, available)
VALUES (CAST(:product_id AS uuid), CAST(:seller_id AS uuid), :stock, :stock2)
ON CONFLICT (product_id) DO NOTHING)sql";

constexpr const char* kDeleteStock = R"sql(
UPDATE stock SET deleted_at = COALESCE(deleted_at, now()), updated_at = now()
WHERE product_id = CAST(:product_id AS uuid))sql";

constexpr const char* kDefaultReleaseReason = "released";

Emitter emitter_of(events::HandlerContext& ctx) {
  return Emitter{ctx.outbox, ctx.factory, &ctx.event};
}

}  // namespace

void InventoryHandler::lock_ahead(soci::session& sql,
                                  const std::vector<const events::Envelope*>& batch) {
  using namespace contracts::inventory;
  using namespace contracts::catalog;
  std::set<std::string> orders;
  std::set<std::string> products;
  for (const auto* e : batch) {
    const auto* data = e->data.if_object();
    if (data == nullptr) continue;
    if (e->type == ReserveStockV1::kType || e->type == ReleaseStockV1::kType ||
        e->type == CommitReservationV1::kType) {
      if (auto id = events::uuid_at(*data, "order_id")) orders.insert(std::move(*id));
    }
    if (e->type == ReserveStockV1::kType) {
      const auto* lines = data->if_contains("lines");
      if (lines == nullptr || !lines->is_array()) continue;
      for (const auto& line : lines->get_array()) {
        if (!line.is_object()) continue;
        if (auto id = events::uuid_at(line.get_object(), "product_id"))
          products.insert(std::move(*id));
      }
    } else if (e->type == ProductCreatedV1::kType || e->type == ProductDeletedV1::kType ||
               e->type == AdjustStockV1::kType) {
      if (auto id = events::uuid_at(*data, "product_id")) products.insert(std::move(*id));
    }
  }
  const std::vector<std::string> order_ids(orders.begin(), orders.end());
  reservations_.lock(sql, order_ids);
  for (const auto& order_id : order_ids) {
    if (const auto row = reservations_.find(sql, order_id)) {
      for (const auto& line : row->lines) products.insert(line.product_id);
    }
  }
  stock_.lock(sql, std::vector<std::string>(products.begin(), products.end()));
}

void InventoryHandler::begin(soci::session& /*sql*/) {
  stock_.clear();
  reservations_.clear();
  levels_.clear();
}

void InventoryHandler::before_commit(soci::session& sql, events::OutboxWriter& outbox) {
  stock_.flush(sql);
  reservations_.flush(sql);
  levels_.emit(outbox);
}

void InventoryHandler::product_created(events::HandlerContext& ctx,
                                       const contracts::catalog::ProductCreatedV1& event) {
  const std::int64_t& stock = event.initial_stock;
  ctx.sql << kCreateStock, soci::use(event.product_id, "product_id"),
      soci::use(event.seller_id, "seller_id"), soci::use(stock, "stock"),
      soci::use(stock, "stock2");
  // A replay reports the current level, which is what subscribers need either way.
  const auto rows = stock_.lock(ctx.sql, {event.product_id});
  const auto it = rows.find(event.product_id);
  if (it == rows.end()) throw std::logic_error("stock of " + event.product_id + " vanished");
  levels_.superseded(event.product_id);
  emitter_of(ctx).emit(event.product_id, stock_level_changed(event.product_id, it->second.level));
}

void InventoryHandler::product_deleted(events::HandlerContext& ctx,
                                       const contracts::catalog::ProductDeletedV1& event) {
  ctx.sql << kDeleteStock, soci::use(event.product_id, "product_id");
  stock_.mark_deleted(event.product_id);
}

void InventoryHandler::reserve(events::HandlerContext& ctx,
                               const contracts::inventory::ReserveStockV1& cmd) {
  const std::string& order_id = cmd.order_id;
  const Emitter out = emitter_of(ctx);

  if (const auto existing = reservations_.find(ctx.sql, order_id)) {
    switch (replay_reserve(existing->status)) {
      case ReserveReplay::reserved:
        out.emit(order_id, stock_reserved(order_id, existing->lines, existing->expires_at_text));
        return;
      case ReserveReplay::committed:
        out.emit(order_id, inv::ReservationCommittedV1{.order_id = order_id});
        return;
      case ReserveReplay::released:
        out.emit(order_id, stock_released(order_id, existing->release_reason, false));
        return;
      case ReserveReplay::rejected:
        out.emit(order_id, inv::StockRejectedV1::from(boost::json::parse(existing->rejection)));
        return;
    }
  }

  std::vector<Line> lines;
  for (const auto& line : cmd.lines) lines.push_back(Line{line.product_id, line.quantity});
  const std::vector<Line> merged = merge_lines(std::move(lines));
  std::vector<std::string> ids;
  for (const auto& line : merged) ids.push_back(line.product_id);

  const auto rows = stock_.lock(ctx.sql, ids);
  const bool some_not_created = std::any_of(
      ids.begin(), ids.end(), [&](const std::string& id) { return !rows.contains(id); });
  if (some_not_created) {
    events::retry_while_recent(ctx, unknown_product_grace_,
                               "reservation " + order_id + " names a product with no stock yet");
  }
  std::map<std::string, StockLevel> live;
  for (const auto& [id, row] : rows) {
    if (!row.deleted) live.emplace(id, row.level);
  }
  const ReservationDecision decision = decide_reservation(merged, live);
  if (!decision.accepted()) {
    const auto payload = stock_rejected(order_id, decision);
    reservations_.add_rejected(order_id, boost::json::serialize(payload.to_json()));
    out.emit(order_id, payload);
    return;
  }

  for (const auto& line : merged) {
    StockLevel& level = live.at(line.product_id);
    level = inventory::reserve(level, line.quantity);
    stock_.save(line.product_id, level);
  }
  // The saga may ask for a longer hold (a buyer paying later); never a shorter one.
  const auto hold =
      std::max<std::chrono::seconds>(ttl_, std::chrono::seconds{cmd.hold_seconds.value_or(0)});
  const auto until = ctx.clock.now() + hold;
  const std::string expires_at = events::format_rfc3339(until);
  reservations_.add_active(order_id, merged, until, expires_at);
  out.emit(order_id, stock_reserved(order_id, merged, expires_at));
  for (const auto& line : merged) levels_.moved(out, line.product_id, live.at(line.product_id));
}

void InventoryHandler::release(events::HandlerContext& ctx,
                               const contracts::inventory::ReleaseStockV1& cmd) {
  const std::string& order_id = cmd.order_id;
  std::string reason = cmd.reason.value_or("");
  if (reason.empty()) reason = kDefaultReleaseReason;
  const Emitter out = emitter_of(ctx);

  const auto existing = reservations_.find(ctx.sql, order_id);
  if (!existing) reservations_.add_tombstone(order_id, reason);
  const ReleaseAction action =
      decide_release(existing ? std::optional(existing->status) : std::nullopt);
  if (action == ReleaseAction::nothing) {
    out.emit(order_id, stock_released(order_id, reason, false));
    return;
  }
  give_back(ctx.sql, stock_, reservations_, levels_, out, order_id, existing->lines, action,
            ReservationStatus::released, reason);
}

void InventoryHandler::commit(events::HandlerContext& ctx,
                              const contracts::inventory::CommitReservationV1& cmd) {
  const std::string& order_id = cmd.order_id;
  const Emitter out = emitter_of(ctx);

  const auto existing = reservations_.find(ctx.sql, order_id);
  const CommitDecision decision =
      existing ? decide_commit(existing->status, existing->expires_at, ctx.clock.now())
               : decide_commit(std::nullopt, {}, ctx.clock.now());
  switch (decision.action) {
    case CommitAction::commit: {
      std::vector<std::string> ids;
      for (const auto& line : existing->lines) ids.push_back(line.product_id);
      auto rows = stock_.lock(ctx.sql, ids);
      for (const auto& line : existing->lines) {
        const auto it = rows.find(line.product_id);
        if (it == rows.end()) {
          throw std::logic_error("reservation " + order_id + " holds unknown product " +
                                 line.product_id);
        }
        it->second.level = inventory::commit(it->second.level, line.quantity);
        stock_.save(line.product_id, it->second.level);
        levels_.moved(out, line.product_id, it->second.level);
      }
      reservations_.set_status(order_id, ReservationStatus::committed, {});
      out.emit(order_id, inv::ReservationCommittedV1{.order_id = order_id});
      return;
    }
    case CommitAction::repeat_committed:
      out.emit(order_id, inv::ReservationCommittedV1{.order_id = order_id});
      return;
    case CommitAction::expire_then_fail:
      give_back(ctx.sql, stock_, reservations_, levels_, out, order_id, existing->lines,
                ReleaseAction::release_reserved, ReservationStatus::expired, "expired");
      out.emit(order_id, commit_failed(order_id, decision.failure));
      return;
    case CommitAction::fail:
      out.emit(order_id, commit_failed(order_id, decision.failure));
      return;
  }
}

void InventoryHandler::reject_unstorable_adjustment(events::HandlerContext& ctx,
                                                    const events::UnstorableValue& value) {
  const std::string product_id = events::refused_id(ctx, "product_id");
  emitter_of(ctx).emit(product_id, inv::StockAdjustRejectedV1{
                                       .product_id = product_id,
                                       .reason = std::string(to_string(AdjustRejection::invalid)),
                                       .detail = value.message()});
}

void InventoryHandler::adjust(events::HandlerContext& ctx,
                              const contracts::inventory::AdjustStockV1& cmd) {
  const std::string& product_id = cmd.product_id;
  const Actor actor{cmd.actor_id, cmd.actor_role};
  Adjustment adjustment;
  if (cmd.available) {
    adjustment = Adjustment::set_to(*cmd.available);
  } else if (cmd.delta) {
    adjustment = Adjustment::by(*cmd.delta);
  }
  const Emitter out = emitter_of(ctx);
  auto reject = [&](AdjustRejection why, std::optional<std::string> detail = std::nullopt) {
    out.emit(product_id, inv::StockAdjustRejectedV1{.product_id = product_id,
                                                    .reason = std::string(to_string(why)),
                                                    .detail = std::move(detail)});
  };

  const auto rows = stock_.lock(ctx.sql, {product_id});
  const auto it = rows.find(product_id);
  if (it == rows.end()) {
    // A seller may set the stock of a product edge has just listed, before its ProductCreated
    // (another topic) arrives here: wait for it as a reservation does.
    events::retry_while_recent(ctx, unknown_product_grace_,
                               "stock of product " + product_id + " set before it was listed");
    return reject(AdjustRejection::unknown_product);
  }
  if (it->second.deleted) return reject(AdjustRejection::unknown_product);
  if (!may_adjust(actor, it->second.seller_id)) return reject(AdjustRejection::forbidden);
  const AdjustOutcome outcome = inventory::adjust(it->second.level, adjustment);
  if (!outcome.ok()) {
    if (outcome.rejection == AdjustRejection::out_of_range) {
      return reject(outcome.rejection, std::string(cmd.available ? "available" : "delta") +
                                           " takes the stock beyond what a level holds");
    }
    return reject(outcome.rejection);
  }
  stock_.save(product_id, *outcome.level);
  // In place, not pending: the event answers this command (its causation), and edge waits for
  // that answer before it shows the product's stock again.
  levels_.superseded(product_id);
  out.emit(product_id, stock_level_changed(product_id, *outcome.level));
}

}  // namespace bazaar::inventory
