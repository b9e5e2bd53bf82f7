#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "events/result.hpp"

namespace bazaar::notification {

/// Where webhook requests go: a plain-HTTP endpoint.
struct WebhookUrl {
  std::string host;  ///< a name or address; IPv6 without its brackets
  std::uint16_t port = 80;
  std::string target = "/";  ///< path and query, never empty

  /// The Host header value: host, bracketed when IPv6, with the port unless it is 80.
  std::string host_header() const;
  bool operator==(const WebhookUrl&) const = default;
};

/// Parses `http://host[:port][/path][?query]`. Anything else (https, credentials in the URL,
/// a bad port, spaces or control characters) is an Error with code `invalid_url`.
events::Result<WebhookUrl> parse_webhook_url(std::string_view url);

}  // namespace bazaar::notification
