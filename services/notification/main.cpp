// bazaar-notification: tells buyers, sellers and admins what happened to orders, through
// notification.events, the JSON log and, when configured, a webhook.
#include <CLI/CLI.hpp>
#include <chrono>
#include <memory>
#include <stdexcept>

#include "contracts/contracts.hpp"
#include "delivery_policy.hpp"
#include "events/service.hpp"
#include "events/startup.hpp"
#include "notification_handler.hpp"
#include "webhook_client.hpp"
#include "webhook_sender.hpp"
#include "webhook_url.hpp"

int main(int argc, char** argv) {
  namespace notification = bazaar::notification;
  bazaar::events::PlatformConfig cfg;
  cfg.service = "notification";
  CLI::App app{"bazaar-notification: notifies buyers, sellers and admins of order outcomes"};
  bazaar::events::add_platform_options(app, cfg);
  std::string webhook_url;
  notification::WebhookLimits limits;
  int timeout_ms = static_cast<int>(limits.timeout.count());
  notification::DeliveryPolicy policy;
  app.add_option("--webhook-url", webhook_url,
                 "http://host:port/path that every notification is POSTed to (empty: none)")
      ->envname("BAZAAR_NOTIFICATION_WEBHOOK_URL");
  app.add_option("--webhook-timeout-ms", timeout_ms,
                 "Deadline of one webhook request: connect, write and read")
      ->envname("BAZAAR_NOTIFICATION_WEBHOOK_TIMEOUT_MS")
      ->check(CLI::Range(100, 120'000));
  app.add_option("--webhook-max-attempts", policy.max_attempts,
                 "Webhook attempts per notification before it is marked FAILED")
      ->envname("BAZAAR_NOTIFICATION_WEBHOOK_MAX_ATTEMPTS")
      ->check(CLI::Range(1, 1000));
  CLI11_PARSE(app, argc, argv);
  return bazaar::events::run_main("bazaar-notification", [&] {
    std::unique_ptr<notification::WebhookClient> client;
    if (!webhook_url.empty()) {
      auto url = notification::parse_webhook_url(webhook_url);
      if (!url) throw std::invalid_argument(url.error().message);
      limits.timeout = std::chrono::milliseconds{timeout_ms};
      client = std::make_unique<notification::WebhookClient>(std::move(url).value(), limits);
    }
    bazaar::events::Service service(cfg);
    notification::NotificationHandler handler(service.clock(), client != nullptr);
    namespace topic = bazaar::contracts::topic;
    service.add_processor("notification",
                          {topic::kIdentityEvents, topic::kIdentityOtp, topic::kOrderEvents},
                          handler);
    std::unique_ptr<notification::WebhookSender> sender;
    if (client) {
      sender = std::make_unique<notification::WebhookSender>(*client, policy);
      service.add_periodic("webhook delivery", std::chrono::milliseconds{200},
                           [&sender](bazaar::events::TaskContext& ctx) { sender->run_once(ctx); });
    }
    return service.run();
  });
}
