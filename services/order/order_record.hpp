#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pricing.hpp"
#include "saga.hpp"

namespace bazaar::order {

/// One order as stored: its captured prices and its saga.
struct OrderRecord {
  std::string order_id;
  std::string buyer_id;
  std::string payment_token;
  std::string currency;
  std::int64_t total = 0;
  std::vector<PricedLine> lines;
  std::string payment_due_at;         ///< RFC 3339; empty until the saga first waits for the buyer
  std::int64_t refund_requested = 0;  ///< admin refunds accepted, paid out or on their way
  std::int64_t refunded = 0;          ///< refunded so far, as the payment service reported
  /// The admin refund a decision carries out (not stored here): a RefundPayment it sends
  /// names it, with its reason.
  std::string refund_id;
  std::string refund_reason;
  Saga saga;
};

}  // namespace bazaar::order
