#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string_view>

#include "events/backoff.hpp"

namespace bazaar::notification {

/// Where a webhook delivery stands.
enum class DeliveryStatus { pending, delivered, failed };

/// The stored name of a status: PENDING, DELIVERED or FAILED.
std::string_view to_string(DeliveryStatus status);

/// How webhook deliveries are retried.
struct DeliveryPolicy {
  int max_attempts = 8;
  events::BackoffPolicy backoff{.initial = std::chrono::milliseconds{500},
                                .max = std::chrono::seconds{30},
                                .multiplier = 2.0,
                                .jitter = 0.2};
};

/// What to record after one attempt.
struct DeliveryStep {
  DeliveryStatus status;
  int attempts;                          ///< attempts made so far, this one included
  std::chrono::milliseconds retry_in{};  ///< when pending: the wait before the next attempt
};

/// True for a 2xx HTTP status: the receiver took the notification.
bool accepted(int http_status);

/// The step after an attempt that `succeeded` or not, when `attempts_before` attempts were
/// made earlier: delivered, retried later with capped exponential backoff (never sooner than
/// `at_least`, the receiver's own retry_after), or failed for good once `max_attempts` attempts
/// are spent or the failure is `permanent`. `unit_random` jitters the delay (nullptr: none).
DeliveryStep after_attempt(const DeliveryPolicy& policy, int attempts_before, bool succeeded,
                           const std::function<double()>& unit_random = nullptr,
                           std::chrono::milliseconds at_least = {}, bool permanent = false);

/// How long a receiver asked us to wait: for a 429, the Bot API's `parameters.retry_after`
/// (seconds) in a JSON `body`, else a `Retry-After` header of seconds; 0 when it said nothing.
/// Capped at an hour.
std::chrono::seconds retry_after_of(int http_status, std::string_view body,
                                    std::string_view retry_after_header);

/// Whether a chat API's answer is final: a request it refuses as such (400 bad request, 401 a
/// wrong token, 403 the bot was blocked, 404) fails the same way when repeated.
bool permanent_chat_failure(int http_status);

/// How long a claimed batch stays reserved for the sender that claimed it: long enough for
/// `batch` requests that each take their whole `timeout`, so no other sender sends them too.
std::chrono::milliseconds claim_lease(std::chrono::milliseconds timeout, int batch);

}  // namespace bazaar::notification
