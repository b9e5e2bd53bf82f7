#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "webhook_url.hpp"

namespace bazaar::notification {

/// Bounds on one webhook request.
struct WebhookLimits {
  std::chrono::milliseconds timeout{3000};  ///< connect + write + read, together
  std::size_t max_request_bytes = 64 * 1024;
  std::size_t max_response_bytes = 64 * 1024;
};

/// What came of one POST: the HTTP status, or 0 and the error when there was no usable answer.
struct PostOutcome {
  int status = 0;
  std::string error;
  std::chrono::seconds retry_after{0};  ///< a 429's wait, as the receiver asked (retry_after_of)
};

/// A plain-HTTP/1.1 client that POSTs JSON to one webhook endpoint, one connection per
/// request, every request under one deadline. Blocking; safe to use from one thread at a time.
class WebhookClient {
 public:
  WebhookClient(WebhookUrl url, WebhookLimits limits);
  /// POSTs `json` with `Idempotency-Key: key` so the receiver can drop a repeated delivery.
  /// Never throws for network or HTTP failures: they come back in the outcome.
  PostOutcome post(const std::string& json, const std::string& key) const;
  const WebhookUrl& url() const { return url_; }
  const WebhookLimits& limits() const { return limits_; }

 private:
  WebhookUrl url_;
  WebhookLimits limits_;
};

}  // namespace bazaar::notification
