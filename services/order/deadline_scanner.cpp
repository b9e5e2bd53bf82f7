#include "deadline_scanner.hpp"

#include <spdlog/spdlog.h>

#include <utility>

#include "events/crash_points.hpp"

namespace bazaar::order {

int scan_deadlines(events::TaskContext& ctx, const SagaStore& store, DeadlineFloor& floor,
                   int limit) {
  int moved = 0;
  const auto now = ctx.clock.now();
  const auto from = floor.from(now);
  bool filled = false;
  events::in_transaction(ctx, [&](soci::session& sql, events::OutboxWriter& out) {
    const auto due = store.due_orders(sql, limit, now, from);
    filled = std::cmp_greater_equal(due.size(), limit);
    // Scanned and locked, nothing updated: a crash here rolls the scan back.
    if (!due.empty()) events::crash_point(events::crash::kDeadlineScanBeforeUpdate);
    OrderBook book;
    book.load(sql, due);
    for (const auto& order_id : due) {
      const auto order = book.find(sql, order_id);
      if (!order) continue;
      const Decision d = decide(order->saga, Input::kDeadline);
      store.apply(book, out, *order, d, "deadline", nullptr);
      spdlog::info("order {}: deadline passed in {}: {}", order_id, to_string(order->saga.status),
                   d.note);
      ++moved;
    }
    book.flush(sql);
  });
  floor.scanned(now, from, filled);  // only once the scan committed
  return moved;
}

}  // namespace bazaar::order
