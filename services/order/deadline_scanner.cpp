#include "deadline_scanner.hpp"

#include <spdlog/spdlog.h>

namespace bazaar::order {

int scan_deadlines(events::TaskContext& ctx, const SagaStore& store, int limit) {
  int moved = 0;
  events::in_transaction(ctx, [&](soci::session& sql, events::OutboxWriter& out) {
    for (const auto& order_id : store.due_orders(sql, limit)) {
      const auto order = store.load_for_update(sql, order_id);
      if (!order) continue;
      const Decision d = decide(order->saga, Input::kDeadline);
      store.apply(sql, out, *order, d, "deadline", nullptr);
      spdlog::info("order {}: deadline passed in {}: {}", order_id, to_string(order->saga.status),
                   d.note);
      ++moved;
    }
  });
  return moved;
}

}  // namespace bazaar::order
