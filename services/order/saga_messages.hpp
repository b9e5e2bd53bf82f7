#pragma once

#include <boost/json/object.hpp>
#include <string>
#include <vector>

#include "order_record.hpp"
#include "saga.hpp"

namespace bazaar::order {

/// One message the saga sends: a command to another service or an event of its own, keyed
/// and correlated by the order id.
struct Message {
  const char* topic;
  std::string type;
  boost::json::object payload;
};

/// What placing `order` announces: OrderPlaced, or OrderRejected when it could not be priced.
Message placement_message(const OrderRecord& order);
/// What decision `d` about `before` sends: its commands, OrderCommandRejected when the input
/// named by `trigger` was refused, OrderAwaitingPayment when it waits for the buyer (until
/// `payment_due_at`), and the events of a status change. ReserveStock asks for `hold_seconds`.
std::vector<Message> decision_messages(const OrderRecord& before, const Decision& d,
                                       const std::string& trigger,
                                       const std::string& payment_due_at, int hold_seconds);
/// RefundPayment of `amount` for the admin refund `order.refund_id` (a partial refund: the
/// order keeps its status).
Message partial_refund_message(const OrderRecord& order, std::int64_t amount);
/// OrderRefunded: admin refund `refund_id` gave back `amount`; `refunded_total` so far.
Message refunded_message(const OrderRecord& order, const std::string& refund_id,
                         std::int64_t amount, std::int64_t refunded_total,
                         const std::string& reason);
/// The commands of a decision about an order this service does not know (a late reply).
std::vector<Message> unknown_order_messages(const std::string& order_id, const Decision& d);
/// The name of a command in the step log: ReserveStock, ChargePayment, ...
const char* command_name(Command c);

}  // namespace bazaar::order
