#include "inventory_handler.hpp"

#include <algorithm>

#include <soci/soci.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <stdexcept>

#include "adjustment.hpp"
#include "events/envelope.hpp"
#include "events/json_fields.hpp"
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

using events::string_or_empty;

// The schemas bound every integer we read, but an integer JSON cannot hold in 64 bits can
// still pass them: such a command can never be applied.
std::int64_t integer(const boost::json::value& v, const char* what) {
  try {
    return v.to_number<std::int64_t>();
  } catch (const std::exception&) {
    throw events::PermanentError(std::string(what) + " is not a 64-bit integer");
  }
}

Emitter emitter_of(events::HandlerContext& ctx) {
  return Emitter{ctx.outbox, ctx.factory, &ctx.event};
}

}  // namespace

bool InventoryHandler::wants(const std::string& t) const {
  return t == type::kProductCreated || t == type::kProductDeleted || t == type::kReserveStock ||
         t == type::kReleaseStock || t == type::kCommitReservation || t == type::kAdjustStock;
}

void InventoryHandler::apply(events::HandlerContext& ctx) {
  const std::string& t = ctx.event.type;
  if (t == type::kProductCreated) return product_created(ctx);
  if (t == type::kProductDeleted) return product_deleted(ctx);
  if (t == type::kReserveStock) return reserve(ctx);
  if (t == type::kReleaseStock) return release(ctx);
  if (t == type::kCommitReservation) return commit(ctx);
  if (t == type::kAdjustStock) return adjust(ctx);
}

void InventoryHandler::product_created(events::HandlerContext& ctx) {
  const auto& data = ctx.event.data.as_object();
  std::string product_id = string_or_empty(data, "product_id");
  std::string seller_id = string_or_empty(data, "seller_id");
  long long stock = integer(data.at("initial_stock"), "initial_stock");
  long long stock2 = stock;
  ctx.sql << kCreateStock, soci::use(product_id, "product_id"), soci::use(seller_id, "seller_id"),
      soci::use(stock, "stock"), soci::use(stock2, "stock2");
  // A replay reports the current level, which is what subscribers need either way.
  const auto rows = lock_stock(ctx.sql, {product_id});
  const auto it = rows.find(product_id);
  if (it == rows.end()) throw std::logic_error("stock of " + product_id + " vanished");
  emitter_of(ctx).emit(type::kStockLevelChanged, product_id,
                       stock_level_changed(product_id, it->second.level));
}

void InventoryHandler::product_deleted(events::HandlerContext& ctx) {
  std::string product_id = string_or_empty(ctx.event.data.as_object(), "product_id");
  ctx.sql << kDeleteStock, soci::use(product_id, "product_id");
}

void InventoryHandler::reserve(events::HandlerContext& ctx) {
  const auto& data = ctx.event.data.as_object();
  const std::string order_id = string_or_empty(data, "order_id");
  const Emitter out = emitter_of(ctx);

  if (const auto existing = lock_reservation(ctx.sql, order_id)) {
    switch (replay_reserve(existing->status)) {
      case ReserveReplay::reserved:
        out.emit(type::kStockReserved, order_id,
                 stock_reserved(order_id, existing->lines, existing->expires_at_text));
        return;
      case ReserveReplay::committed:
        out.emit(type::kReservationCommitted, order_id, order_only(order_id));
        return;
      case ReserveReplay::released:
        out.emit(type::kStockReleased, order_id,
                 stock_released(order_id, existing->release_reason, false));
        return;
      case ReserveReplay::rejected: {
        boost::json::value payload = boost::json::parse(existing->rejection);
        out.emit(type::kStockRejected, order_id, std::move(payload.as_object()));
        return;
      }
    }
  }

  std::vector<Line> lines;
  for (const auto& item : data.at("lines").as_array()) {
    const auto& line = item.as_object();
    lines.push_back(Line{string_or_empty(line, "product_id"), integer(line.at("quantity"), "quantity")});
  }
  const std::vector<Line> merged = merge_lines(std::move(lines));
  std::vector<std::string> ids;
  for (const auto& line : merged) ids.push_back(line.product_id);

  const auto rows = lock_stock(ctx.sql, ids);
  const bool some_not_created = std::any_of(ids.begin(), ids.end(), [&](const std::string& id) {
    return !rows.contains(id);
  });
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
    auto payload = stock_rejected(order_id, decision);
    insert_rejected_reservation(ctx.sql, order_id, boost::json::serialize(payload));
    out.emit(type::kStockRejected, order_id, std::move(payload));
    return;
  }

  for (const auto& line : merged) {
    StockLevel& level = live.at(line.product_id);
    level = inventory::reserve(level, line.quantity);
    save_stock(ctx.sql, line.product_id, level);
  }
  const std::string expires_at = events::format_rfc3339(ctx.clock.now() + ttl_);
  insert_active_reservation(ctx.sql, order_id, merged, expires_at);
  out.emit(type::kStockReserved, order_id, stock_reserved(order_id, merged, expires_at));
  for (const auto& line : merged) {
    out.emit(type::kStockLevelChanged, line.product_id,
             stock_level_changed(line.product_id, live.at(line.product_id)));
  }
}

void InventoryHandler::release(events::HandlerContext& ctx) {
  const auto& data = ctx.event.data.as_object();
  const std::string order_id = string_or_empty(data, "order_id");
  std::string reason = string_or_empty(data, "reason");
  if (reason.empty()) reason = kDefaultReleaseReason;
  const Emitter out = emitter_of(ctx);

  const auto existing = lock_reservation(ctx.sql, order_id);
  if (!existing) insert_released_tombstone(ctx.sql, order_id, reason);
  const ReleaseAction action =
      decide_release(existing ? std::optional(existing->status) : std::nullopt);
  if (action == ReleaseAction::nothing) {
    out.emit(type::kStockReleased, order_id, stock_released(order_id, reason, false));
    return;
  }
  give_back(ctx.sql, out, order_id, existing->lines, action, ReservationStatus::released, reason);
}

void InventoryHandler::commit(events::HandlerContext& ctx) {
  const std::string order_id = string_or_empty(ctx.event.data.as_object(), "order_id");
  const Emitter out = emitter_of(ctx);

  const auto existing = lock_reservation(ctx.sql, order_id);
  const CommitDecision decision =
      existing ? decide_commit(existing->status, existing->expires_at, ctx.clock.now())
               : decide_commit(std::nullopt, {}, ctx.clock.now());
  switch (decision.action) {
    case CommitAction::commit: {
      std::vector<std::string> ids;
      for (const auto& line : existing->lines) ids.push_back(line.product_id);
      auto rows = lock_stock(ctx.sql, ids);
      std::vector<std::pair<std::string, StockLevel>> changed;
      for (const auto& line : existing->lines) {
        const auto it = rows.find(line.product_id);
        if (it == rows.end()) {
          throw std::logic_error("reservation " + order_id + " holds unknown product " +
                                 line.product_id);
        }
        it->second.level = inventory::commit(it->second.level, line.quantity);
        save_stock(ctx.sql, line.product_id, it->second.level);
        changed.emplace_back(line.product_id, it->second.level);
      }
      set_reservation_status(ctx.sql, order_id, ReservationStatus::committed, {});
      out.emit(type::kReservationCommitted, order_id, order_only(order_id));
      for (const auto& [product_id, level] : changed) {
        out.emit(type::kStockLevelChanged, product_id, stock_level_changed(product_id, level));
      }
      return;
    }
    case CommitAction::repeat_committed:
      out.emit(type::kReservationCommitted, order_id, order_only(order_id));
      return;
    case CommitAction::expire_then_fail:
      give_back(ctx.sql, out, order_id, existing->lines, ReleaseAction::release_reserved,
                ReservationStatus::expired, "expired");
      out.emit(type::kReservationCommitFailed, order_id, commit_failed(order_id, decision.failure));
      return;
    case CommitAction::fail:
      out.emit(type::kReservationCommitFailed, order_id, commit_failed(order_id, decision.failure));
      return;
  }
}

void InventoryHandler::adjust(events::HandlerContext& ctx) {
  const auto& data = ctx.event.data.as_object();
  const std::string product_id = string_or_empty(data, "product_id");
  const Actor actor{string_or_empty(data, "actor_id"), string_or_empty(data, "actor_role")};
  Adjustment adjustment;
  if (const auto* available = data.if_contains("available")) {
    adjustment = Adjustment::set_to(integer(*available, "available"));
  } else if (const auto* delta = data.if_contains("delta")) {
    adjustment = Adjustment::by(integer(*delta, "delta"));
  }
  const Emitter out = emitter_of(ctx);
  auto reject = [&](AdjustRejection why) {
    out.emit(type::kStockAdjustRejected, product_id,
             {{"product_id", product_id}, {"reason", to_string(why)}});
  };

  const auto rows = lock_stock(ctx.sql, {product_id});
  const auto it = rows.find(product_id);
  if (it == rows.end() || it->second.deleted) return reject(AdjustRejection::unknown_product);
  if (!may_adjust(actor, it->second.seller_id)) return reject(AdjustRejection::forbidden);
  const AdjustOutcome outcome = inventory::adjust(it->second.level, adjustment);
  if (!outcome.ok()) {
    if (outcome.rejection == AdjustRejection::out_of_range) {
      throw events::PermanentError("stock adjustment of " + product_id + " overflows");
    }
    return reject(outcome.rejection);
  }
  save_stock(ctx.sql, product_id, *outcome.level);
  out.emit(type::kStockLevelChanged, product_id, stock_level_changed(product_id, *outcome.level));
}

}  // namespace bazaar::inventory
