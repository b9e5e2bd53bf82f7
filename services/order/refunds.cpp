#include "refunds.hpp"

namespace bazaar::order {
namespace {

RefundPlan refuse(std::string reason) {
  return RefundPlan{.kind = RefundPlan::Kind::kRefuse, .amount = 0, .reason = std::move(reason)};
}

}  // namespace

RefundPlan plan_refund(Status status, std::int64_t total, std::int64_t requested,
                       std::optional<std::int64_t> amount) {
  if (status != Status::kConfirmed && status != Status::kShipped && status != Status::kDelivered) {
    return refuse("only a CONFIRMED, SHIPPED or DELIVERED order can be refunded; this one is " +
                  std::string(to_string(status)));
  }
  const std::int64_t rest = requested >= total ? 0 : total - requested;
  if (rest == 0) return refuse("nothing is left to refund");
  const std::int64_t wanted = amount.value_or(rest);
  if (wanted <= 0) return refuse("a refund is at least one minor unit");
  if (wanted > rest) {
    return refuse("the refund exceeds what is left to refund (" + std::to_string(rest) +
                  " minor units)");
  }
  const auto kind = status == Status::kConfirmed && wanted == rest
                        ? RefundPlan::Kind::kCancelAndRefund
                        : RefundPlan::Kind::kPartial;
  return RefundPlan{.kind = kind, .amount = wanted, .reason = {}};
}

}  // namespace bazaar::order
