#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "order_status.hpp"

namespace bazaar::order {

/// What an admin's refund of an order does.
struct RefundPlan {
  enum class Kind {
    kRefuse,           ///< not allowed: `reason` says why; nothing changes
    kPartial,          ///< `amount` goes back to the buyer; the order keeps its status
    kCancelAndRefund,  ///< everything left goes back, the stock is released, the order cancelled
  };
  Kind kind = Kind::kRefuse;
  std::int64_t amount = 0;  ///< minor units this refund returns
  std::string reason;       ///< why it is refused
};

/// Plans an admin refund of `amount` minor units (nullopt: everything left) of an order in
/// `status` whose charge took `total`, of which `requested` was already refunded or is being
/// refunded. Refunds never exceed the charge. Refunding everything left of a CONFIRMED order
/// (not shipped yet) cancels it and releases its stock; after shipping only money goes back.
RefundPlan plan_refund(Status status, std::int64_t total, std::int64_t requested,
                       std::optional<std::int64_t> amount);

}  // namespace bazaar::order
