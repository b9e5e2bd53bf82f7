#include "orders/order_wait.hpp"

#include <chrono>

namespace bazaar::edge {

std::optional<OrderView> wait_for_outcome(ApiContext& api, const std::string& id, int seconds,
                                          bool& answered) {
  OrderWaiters::Waiter waiter(api.waiters, id);  // before the read: no answer slips between
  std::optional<OrderView> order;
  api.db.read([&](soci::session& sql) { order = load_order(sql, id, true); });
  answered = order && answers_wait(*order);
  if (!order || answered || !waiter.admitted()) return order;
  // Woken by its answer or not, the answer is the order as it is now.
  static_cast<void>(waiter.wait_until(api.clock.now() + std::chrono::seconds{seconds}));
  api.db.read([&](soci::session& sql) { order = load_order(sql, id, true); });
  answered = order && answers_wait(*order);
  return order;
}

void add_preference_applied(HttpResponse& r, int seconds) {
  r.headers.emplace_back("Preference-Applied", "wait=" + std::to_string(seconds));
}

}  // namespace bazaar::edge
