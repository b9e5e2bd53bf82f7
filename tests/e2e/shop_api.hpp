#pragma once

#include <boost/json/value.hpp>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "http_client.hpp"
#include "system.hpp"

namespace bazaar::e2e {

inline constexpr const char* kSecret = "e2e-only-secret-of-more-than-32-bytes-0123456789";
inline constexpr const char* kAdminEmail = "root@bazaar.test";
inline constexpr const char* kAdminPassword = "root-password-123";

/// The settings edge runs with in the HTTP scenarios (on `port`).
Env edge_env(std::uint16_t port);

/// The whole system with the edge on a free port (and analytics when asked), and a webhook
/// receiver standing in for the chat bot that delivers one-time codes. Scenario steps of an
/// HTTP client.
struct Api {
  /// `extra` adds settings per service to the scenario's own.
  explicit Api(bool with_analytics = false, Env analytics_env = {},
               const std::map<std::string, Env>& extra = {});

  WebhookReceiver webhook{0};
  std::uint16_t port;
  System system;
  HttpClient http;
  Bus bus;

  std::string unique_email(const std::string& who);
  /// Registers and signs in; returns {user id, access token}.
  std::pair<std::string, std::string> user(const std::string& role);
  std::string admin_token();
  /// A product listed by `seller` (named `name`, priced in `currency`), once the order
  /// service knows its price.
  std::string product(const std::string& seller_token, double price, int stock,
                      const std::string& name = "Teapot", const std::string& currency = "EUR");
  /// Places an order of `quantity` units, waiting up to `wait_s` for its outcome.
  boost::json::value order(const std::string& token, const std::string& product, int quantity,
                           const std::string& payment_token, int wait_s = 20);
  /// Polls the order until CONFIRMED, REJECTED or CANCELLED (or 30 s); returns the status.
  std::string wait_order_status(const std::string& token, const std::string& id);
};

}  // namespace bazaar::e2e
