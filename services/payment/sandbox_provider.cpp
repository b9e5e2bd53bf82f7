#include "sandbox_provider.hpp"

namespace bazaar::payment {

ChargeOutcome SandboxProvider::charge(const std::string& order_id, std::int64_t /*amount*/,
                                      const std::string& /*currency*/, const std::string& token) {
  const std::lock_guard lock(mutex_);
  Order& order = orders_[order_id];
  ++order.attempts;
  // The order id is the idempotency key: an approved order is never charged again.
  if (order.charged) return ChargeOutcome::approved();
  if (token == "tok_ok" || (token == "tok_flaky" && order.attempts > 1)) {
    order.charged = true;
    ++charged_;
    return ChargeOutcome::approved();
  }
  if (token == "tok_flaky") return ChargeOutcome::transient("sandbox: flaky provider error");
  if (token == "tok_decline") return ChargeOutcome::declined("insufficient_funds");
  if (token == "tok_timeout") return ChargeOutcome::no_answer();
  return ChargeOutcome::declined("invalid_token");
}

int SandboxProvider::attempts(const std::string& order_id) const {
  const std::lock_guard lock(mutex_);
  const auto it = orders_.find(order_id);
  return it == orders_.end() ? 0 : it->second.attempts;
}

std::size_t SandboxProvider::charged_orders() const {
  const std::lock_guard lock(mutex_);
  return charged_;
}

}  // namespace bazaar::payment
