#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "events/clock.hpp"
#include "events/envelope.hpp"
#include "order_book.hpp"
#include "order_record.hpp"
#include "saga.hpp"
#include "saga_messages.hpp"

namespace soci {
class session;
}
namespace bazaar::events {
class OutboxWriter;
}

namespace bazaar::order {

/// How long each step may wait before the saga compensates.
struct Timeouts {
  std::chrono::milliseconds stock{10'000};
  std::chrono::milliseconds payment{10'000};
  std::chrono::milliseconds compensation{10'000};
  /// How long the buyer has to pay once the stock is held (pay later, or after a decline).
  std::chrono::milliseconds payment_window{600'000};
};

/// The order database's side of the saga: loads an order under a row lock, and applies a
/// Decision as one unit: the row, the step log, the deadline, and the messages the decision
/// sends (saga_messages.hpp) in the outbox, all in the caller's transaction. Orders are read
/// and written through the transaction's OrderBook, which the caller flushes before the commit.
class SagaStore {
 public:
  SagaStore(Timeouts timeouts, const events::EnvelopeFactory& factory, const events::Clock& clock);

  /// Inserts a new order (PLACED, or REJECTED when it could not be priced) and emits
  /// OrderPlaced or OrderRejected.
  void insert(OrderBook& book, events::OutboxWriter& out, const OrderRecord& order,
              const events::Envelope* cause) const;
  /// Persists `d` for `before` and sends what it asks for. `trigger` names the input.
  void apply(OrderBook& book, events::OutboxWriter& out, const OrderRecord& before,
             const Decision& d, const std::string& trigger, const events::Envelope* cause) const;
  /// Sends the commands of a decision about an order this service does not know.
  void apply_unknown(events::OutboxWriter& out, const std::string& order_id, const Decision& d,
                     const events::Envelope* cause) const;
  /// Orders whose deadline passed by `now`, none before `from` when given, locked (skipping
  /// rows others hold), oldest first.
  std::vector<std::string> due_orders(soci::session& sql, int limit, events::Clock::time_point now,
                                      std::optional<events::Clock::time_point> from) const;
  /// Whether admin refund `refund_id` was accepted before (a repeated command).
  bool refund_known(soci::session& sql, const std::string& refund_id) const;
  /// Records admin refund `order.refund_id` of `amount` as accepted: its row, and the order's
  /// refund_requested grows by it.
  void record_refund(soci::session& sql, OrderBook& book, const OrderRecord& order,
                     std::int64_t amount, const std::string& actor_id) const;
  /// Sends the RefundPayment of a partial admin refund; the saga's status does not change.
  void send_partial_refund(OrderBook& book, events::OutboxWriter& out, const OrderRecord& order,
                           std::int64_t amount, const std::string& trigger,
                           const events::Envelope* cause) const;
  /// The payment service paid out admin refund `refund_id` (`refunded_total` so far): marks it
  /// and emits OrderRefunded, once; a repeated answer changes nothing.
  void refund_paid(soci::session& sql, OrderBook& book, events::OutboxWriter& out,
                   const OrderRecord& order, const std::string& refund_id,
                   std::int64_t refunded_total, const events::Envelope* cause) const;
  /// How long ReserveStock asks the inventory to hold an order's stock.
  int hold_seconds() const;

 private:
  void send(events::OutboxWriter& out, const std::string& order_id, const Message& m,
            const events::Envelope* cause) const;
  void log_step(OrderBook& book, const std::string& order_id, const std::string& trigger,
                Status from, Status to, const std::vector<Command>& commands,
                const std::string& note) const;

  Timeouts timeouts_;
  const events::EnvelopeFactory& factory_;
  const events::Clock& clock_;
};

}  // namespace bazaar::order
