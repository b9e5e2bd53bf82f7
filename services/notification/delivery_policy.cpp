#include "delivery_policy.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <charconv>

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
                           const std::function<double()>& unit_random,
                           std::chrono::milliseconds at_least, bool permanent) {
  const int attempts = std::max(attempts_before, 0) + 1;
  if (succeeded) return {DeliveryStatus::delivered, attempts, {}};
  if (permanent || attempts >= policy.max_attempts) return {DeliveryStatus::failed, attempts, {}};
  // The platform's schedule: the n-th failure waits the n-th step of the backoff.
  events::Backoff backoff(policy.backoff, unit_random);
  std::chrono::milliseconds delay{};
  for (int i = 0; i < attempts; ++i) delay = backoff.next();
  return {DeliveryStatus::pending, attempts, std::max(delay, at_least)};
}

std::chrono::seconds retry_after_of(int http_status, std::string_view body,
                                    std::string_view retry_after_header) {
  constexpr std::int64_t kCap = 3600;
  if (http_status != 429) return std::chrono::seconds{0};
  boost::system::error_code ec;
  const auto json = boost::json::parse(body, ec);
  if (!ec && json.is_object()) {
    if (const auto* parameters = json.as_object().if_contains("parameters");
        parameters != nullptr && parameters->is_object()) {
      if (const auto* after = parameters->as_object().if_contains("retry_after");
          after != nullptr && after->is_int64() && after->as_int64() > 0) {
        return std::chrono::seconds{std::min(after->as_int64(), kCap)};
      }
    }
  }
  std::int64_t seconds = 0;
  const auto* end = retry_after_header.data() + retry_after_header.size();
  if (const auto [at, err] = std::from_chars(retry_after_header.data(), end, seconds);
      err == std::errc{} && at == end && seconds > 0) {
    return std::chrono::seconds{std::min(seconds, kCap)};
  }
  return std::chrono::seconds{0};
}

bool permanent_chat_failure(int http_status) {
  return http_status == 400 || http_status == 401 || http_status == 403 || http_status == 404;
}

std::chrono::milliseconds claim_lease(std::chrono::milliseconds timeout, int batch) {
  // A second of slack per request covers resolving and recording; ten more cover the claim.
  return (timeout + std::chrono::seconds{1}) * std::max(batch, 1) + std::chrono::seconds{10};
}

}  // namespace bazaar::notification
