#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

#include "payment_provider.hpp"

namespace bazaar::payment {

/// The provider of tests and local runs; the token picks the outcome. `tok_ok` approves,
/// `tok_decline` declines (insufficient_funds), `tok_timeout` never answers, `tok_flaky` fails
/// transiently on its first attempt for an order and approves afterwards, and any other token
/// declines (invalid_token). Like a remote provider it keeps its own state (attempts and
/// charges per order), in memory.
class SandboxProvider final : public PaymentProvider {
 public:
  ChargeOutcome charge(const std::string& order_id, std::int64_t amount,
                       const std::string& currency, const std::string& token) override;

  /// How many times an order was asked for, whatever the answer.
  int attempts(const std::string& order_id) const;
  /// How many orders were charged; each at most once.
  std::size_t charged_orders() const;

 private:
  struct Order {
    int attempts = 0;
    bool charged = false;
  };
  mutable std::mutex mutex_;
  std::unordered_map<std::string, Order> orders_;
  std::size_t charged_ = 0;
};

}  // namespace bazaar::payment
