// bazaar-order: the order service, orchestrator of every order's saga.
#include <CLI/CLI.hpp>

#include "contracts/contracts.hpp"
#include "deadline_scanner.hpp"
#include "events/service.hpp"
#include "events/startup.hpp"
#include "order_handler.hpp"
#include "saga_store.hpp"

int main(int argc, char** argv) {
  bazaar::events::PlatformConfig cfg;
  cfg.service = "order";
  CLI::App app{"bazaar-order: runs each order as a saga (reserve stock, charge payment, confirm)"};
  bazaar::events::add_platform_options(app, cfg);
  int stock_ms = 10'000;
  int payment_ms = 10'000;
  int compensation_ms = 10'000;
  int scan_ms = 250;
  int grace_ms = 30'000;
  int window_ms = 600'000;
  int attempts = 3;
  app.add_option("--stock-timeout-ms", stock_ms, "How long the saga waits for inventory")
      ->envname("BAZAAR_ORDER_STOCK_TIMEOUT_MS")
      ->check(CLI::Range(100, 86'400'000));
  app.add_option("--payment-timeout-ms", payment_ms, "How long it waits for payment and commit")
      ->envname("BAZAAR_ORDER_PAYMENT_TIMEOUT_MS")
      ->check(CLI::Range(100, 86'400'000));
  app.add_option("--compensation-retry-ms", compensation_ms,
                 "How long before unanswered compensations are sent again")
      ->envname("BAZAAR_ORDER_COMPENSATION_RETRY_MS")
      ->check(CLI::Range(100, 86'400'000));
  app.add_option("--deadline-scan-ms", scan_ms, "How often deadlines are checked")
      ->envname("BAZAAR_ORDER_DEADLINE_SCAN_MS")
      ->check(CLI::Range(10, 60'000));
  app.add_option("--unknown-product-grace-ms", grace_ms,
                 "How long an order naming a product not listed yet is retried before rejection")
      ->envname("BAZAAR_ORDER_UNKNOWN_PRODUCT_GRACE_MS")
      ->check(CLI::Range(0, 3'600'000));
  app.add_option("--payment-window-ms", window_ms,
                 "How long an order holds its stock waiting for the buyer to pay (placed without "
                 "a payment token, or after a declined attempt) before it is cancelled")
      ->envname("BAZAAR_ORDER_PAYMENT_WINDOW_MS")
      ->check(CLI::Range(1'000, 43'200'000));
  app.add_option("--payment-attempts", attempts,
                 "How many charges the buyer of an order may try (1: a decline cancels the order)")
      ->envname("BAZAAR_ORDER_PAYMENT_ATTEMPTS")
      ->check(CLI::Range(1, 100));
  CLI11_PARSE(app, argc, argv);
  return bazaar::events::run_main("bazaar-order", [&] {
    bazaar::events::Service service(cfg);
    const bazaar::order::SagaStore store(
        {std::chrono::milliseconds{stock_ms}, std::chrono::milliseconds{payment_ms},
         std::chrono::milliseconds{compensation_ms}, std::chrono::milliseconds{window_ms}},
        service.factory(), service.clock());
    bazaar::order::OrderHandler handler(store, std::chrono::milliseconds{grace_ms}, attempts);
    bazaar::order::OrderHandler prices(store, std::chrono::milliseconds{grace_ms}, attempts);
    namespace topic = bazaar::contracts::topic;
    // A saga is a sequence: a dead-lettered order parks its later records until a redrive.
    service.add_processor("order",
                          {topic::kOrderCommands, topic::kInventoryEvents, topic::kPaymentEvents},
                          handler, true);
    // The price projection in a group of its own: every fetch names all of its consumer's
    // partitions, quiet or not, and the broker reads each one, so the saga's fetches name only
    // the saga's topics.
    service.add_processor("order-catalog", {topic::kCatalogEvents}, prices, true);
    bazaar::order::DeadlineFloor floor;
    service.add_periodic("deadline scanner", std::chrono::milliseconds{scan_ms},
                         [&store, &floor](bazaar::events::TaskContext& ctx) {
                           bazaar::order::scan_deadlines(ctx, store, floor);
                         });
    return service.run();
  });
}
