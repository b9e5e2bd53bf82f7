// bazaar-notification: tells buyers, sellers and admins what happened to orders, through
// notification.events, the JSON log and, when configured, a webhook and a chat bot (the
// Telegram Bot API's sendMessage) for users who bound a chat.
#include <CLI/CLI.hpp>
#include <chrono>
#include <memory>
#include <stdexcept>

#include "contracts/contracts.hpp"
#include "delivery_policy.hpp"
#include "delivery_sender.hpp"
#include "events/service.hpp"
#include "events/startup.hpp"
#include "notification_handler.hpp"
#include "webhook_client.hpp"
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
  std::string chat_api_url;
  std::string chat_bot_token;
  notification::DeliveryPolicy chat_policy;
  app.add_option("--chat-api-url", chat_api_url,
                 "Base URL of a Telegram Bot API server (http://host:port, without /bot<token>); "
                 "users who bound a chat get their notifications there (empty: no chat sink)")
      ->envname("BAZAAR_NOTIFICATION_CHAT_API_URL");
  app.add_option("--chat-bot-token", chat_bot_token,
                 "The bot's token, used in the request path only and never logged")
      ->envname("BAZAAR_NOTIFICATION_CHAT_BOT_TOKEN");
  app.add_option("--chat-max-attempts", chat_policy.max_attempts,
                 "sendMessage attempts per notification before it is marked FAILED")
      ->envname("BAZAAR_NOTIFICATION_CHAT_MAX_ATTEMPTS")
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
    std::unique_ptr<notification::WebhookClient> chat;
    if (!chat_api_url.empty()) {
      if (chat_bot_token.empty() ||
          chat_bot_token.find_first_of("/?#% \t\r\n") != std::string::npos) {
        throw std::invalid_argument(
            "--chat-api-url needs --chat-bot-token (BAZAAR_NOTIFICATION_CHAT_BOT_TOKEN), a "
            "token without /, ?, #, % or spaces");
      }
      std::string base = chat_api_url;
      while (!base.empty() && base.back() == '/') base.pop_back();
      auto url = notification::parse_webhook_url(base + "/bot" + chat_bot_token + "/sendMessage");
      // The message names the option, never the URL: it holds the token.
      if (!url) throw std::invalid_argument("--chat-api-url must be http://host[:port][/path]");
      limits.timeout = std::chrono::milliseconds{timeout_ms};
      chat = std::make_unique<notification::WebhookClient>(std::move(url).value(), limits);
    }
    bazaar::events::Service service(cfg);
    notification::NotificationHandler handler(service.clock(), client != nullptr, chat != nullptr);
    namespace topic = bazaar::contracts::topic;
    service.add_processor("notification",
                          {topic::kIdentityEvents, topic::kIdentityOtp, topic::kOrderEvents},
                          handler, false, bazaar::events::Service::Fetch::in_bulk);
    std::unique_ptr<notification::DeliverySender> sender;
    if (client) {
      sender = std::make_unique<notification::DeliverySender>(notification::kWebhookDeliveries,
                                                              *client, policy);
      service.add_periodic("webhook delivery", std::chrono::milliseconds{200},
                           [&sender](bazaar::events::TaskContext& ctx) { sender->run_once(ctx); });
    }
    std::unique_ptr<notification::DeliverySender> chat_sender;
    if (chat) {
      chat_sender = std::make_unique<notification::DeliverySender>(notification::kChatDeliveries,
                                                                   *chat, chat_policy);
      service.add_periodic(
          "chat delivery", std::chrono::milliseconds{200},
          [&chat_sender](bazaar::events::TaskContext& ctx) { chat_sender->run_once(ctx); });
    }
    return service.run();
  });
}
