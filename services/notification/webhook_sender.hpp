#pragma once

#include <chrono>

#include "delivery_policy.hpp"
#include "events/service.hpp"
#include "events/uuid.hpp"
#include "webhook_client.hpp"

namespace bazaar::notification {

/// The periodic webhook sender: claims due deliveries (a lease, so several instances never
/// send one row at the same time), POSTs each outside any transaction, then records the
/// outcome: DELIVERED, PENDING with a later next_attempt_at, or FAILED when attempts run out.
/// A crash between a POST and its record sends it again: delivery is at least once, and the
/// Idempotency-Key header (the notification id) lets the receiver drop the copy.
class WebhookSender {
 public:
  WebhookSender(const WebhookClient& client, DeliveryPolicy policy, int batch = 16);
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

  const WebhookClient& client_;
  DeliveryPolicy policy_;
  int batch_;
  std::chrono::milliseconds lease_;
  std::chrono::milliseconds pass_budget_;
  events::RandomSource random_;
};

}  // namespace bazaar::notification
