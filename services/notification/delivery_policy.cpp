#include "delivery_policy.hpp"

#include <algorithm>

namespace bazaar::notification {

std::string_view to_string(DeliveryStatus status) {
  switch (status) {
    case DeliveryStatus::pending:
      return "PENDING";
    case DeliveryStatus::delivered:
      return "DELIVERED";
    case DeliveryStatus::failed:
      return "FAILED";
  }
  return "PENDING";
}

bool accepted(int http_status) {
  return http_status >= 200 && http_status <= 299;
}

DeliveryStep after_attempt(const DeliveryPolicy& policy, int attempts_before, bool succeeded,
                           const std::function<double()>& unit_random) {
  const int attempts = std::max(attempts_before, 0) + 1;
  if (succeeded) return {DeliveryStatus::delivered, attempts, {}};
  if (attempts >= policy.max_attempts) return {DeliveryStatus::failed, attempts, {}};
  // The platform's schedule: the n-th failure waits the n-th step of the backoff.
  events::Backoff backoff(policy.backoff, unit_random);
  std::chrono::milliseconds delay{};
  for (int i = 0; i < attempts; ++i) delay = backoff.next();
  return {DeliveryStatus::pending, attempts, delay};
}

std::chrono::milliseconds claim_lease(std::chrono::milliseconds timeout, int batch) {
  // A second of slack per request covers resolving and recording; ten more cover the claim.
  return (timeout + std::chrono::seconds{1}) * std::max(batch, 1) + std::chrono::seconds{10};
}

}  // namespace bazaar::notification
