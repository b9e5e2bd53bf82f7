#pragma once

#include <chrono>

#include "delivery_policy.hpp"
#include "events/db.hpp"
#include "events/service.hpp"
#include "events/uuid.hpp"
#include "webhook_client.hpp"

namespace bazaar::notification {

/// A table of deliveries a sink works through: `deliveries` (the webhook) or `chat_deliveries`
/// (the chat bot). Both have the same columns.
struct DeliveryTable {
  const char* name;                    ///< the table
  const char* sink;                    ///< for logs: "webhook", "chat"
  bool (*permanent)(int http_status);  ///< answers that repeating cannot change (nullptr: none)
};
inline constexpr DeliveryTable kWebhookDeliveries{"deliveries", "webhook", nullptr};
inline constexpr DeliveryTable kChatDeliveries{"chat_deliveries", "chat", &permanent_chat_failure};

/// The periodic sender of one sink: claims due deliveries (a lease, so several instances never
/// send one row at the same time), POSTs each outside any transaction, then records the
/// outcome: DELIVERED, PENDING with a later next_attempt_at (never sooner than a 429 asked),
/// or FAILED when attempts run out or the receiver refused it for good. A crash between a POST
/// and its record sends it again: delivery is at least once, and the Idempotency-Key header
/// (the notification id) lets a receiver drop the copy.
class DeliverySender {
 public:
  DeliverySender(DeliveryTable table, const WebhookClient& client, DeliveryPolicy policy,
                 int batch = 16);
  /// Sends what is due, for a bounded time so that a stop is never held up for long.
  void run_once(events::TaskContext& ctx);

 private:
  struct Claimed {
    std::string notification_id;
    int attempts = 0;
    std::string payload;
  };
  std::vector<Claimed> claim(events::TaskContext& ctx);
  void record(events::TaskContext& ctx, const Claimed& row, const PostOutcome& outcome);
  void release(events::TaskContext& ctx, const Claimed& row);

  DeliveryTable table_;
  events::PreparedStatement claim_;
  events::PreparedStatement record_;
  events::PreparedStatement release_;
  const WebhookClient& client_;
  DeliveryPolicy policy_;
  int batch_;
  std::chrono::milliseconds lease_;
  std::chrono::milliseconds pass_budget_;
  events::RandomSource random_;
};

}  // namespace bazaar::notification
