#include "reservation_expiry.hpp"

#include <spdlog/spdlog.h>

#include <map>
#include <set>
#include <vector>

#include "events/envelope.hpp"
#include "events/service.hpp"
#include "inventory_events.hpp"
#include "inventory_store.hpp"
#include "stock_release.hpp"

namespace bazaar::inventory {
namespace {

// One tick drains at most this many batches, so a backlog cannot pin the scan's thread.
constexpr int kMaxBatchesPerTick = 10;

}  // namespace

std::size_t expire_reservations(events::TaskContext& ctx, int batch) {
  std::size_t total = 0;
  for (int round = 0; round < kMaxBatchesPerTick; ++round) {
    std::size_t expired = 0;
    events::in_transaction(ctx, [&](soci::session& sql, events::OutboxWriter& outbox) {
      const auto ids =
          lock_expired_reservations(sql, events::format_rfc3339(ctx.clock.now()), batch);
      if (ids.empty()) return;
      ReservationBook reservations;
      reservations.lock(sql, ids);
      // Every stock row of the batch is locked up front in one sorted pass: locking them
      // reservation by reservation would interleave product orders and could deadlock with
      // a ReserveStock that locks the same products in ascending order.
      std::map<std::string, std::vector<Line>> lines;
      std::set<std::string> products;
      for (const auto& order_id : ids) {
        const auto row = reservations.find(sql, order_id);
        if (!row) continue;
        for (const auto& line : row->lines) products.insert(line.product_id);
        lines[order_id] = row->lines;
      }
      StockBook stock;
      stock.lock(sql, {products.begin(), products.end()});
      LevelChanges levels;
      const Emitter out{outbox, ctx.factory, nullptr};
      for (const auto& order_id : ids) {
        give_back(sql, stock, reservations, levels, out, order_id, lines[order_id],
                  ReleaseAction::release_reserved, ReservationStatus::expired, "expired");
      }
      stock.flush(sql);
      reservations.flush(sql);
      levels.emit(outbox);
      expired = ids.size();
    });
    total += expired;
    if (expired < static_cast<std::size_t>(batch)) break;
  }
  if (total > 0) spdlog::info("released {} expired reservations", total);
  return total;
}

}  // namespace bazaar::inventory
