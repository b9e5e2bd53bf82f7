// bazaar-inventory: stock levels and reservations (with expiry) of every product.
#include <CLI/CLI.hpp>
#include <chrono>

#include "contracts/contracts.hpp"
#include "events/service.hpp"
#include "events/startup.hpp"
#include "inventory_handler.hpp"
#include "reservation_expiry.hpp"

int main(int argc, char** argv) {
  bazaar::events::PlatformConfig cfg;
  cfg.service = "inventory";
  CLI::App app{
      "bazaar-inventory: stock levels and reservations; consumes inventory.commands "
      "and catalog.events, produces inventory.events"};
  bazaar::events::add_platform_options(app, cfg);
  int ttl_seconds = 120;
  app.add_option("--reservation-ttl-seconds", ttl_seconds,
                 "How long a reservation holds stock before it expires")
      ->envname("BAZAAR_INVENTORY_RESERVATION_TTL_SECONDS")
      ->check(CLI::Range(1, 86400));
  int grace_ms = 30'000;
  app.add_option("--unknown-product-grace-ms", grace_ms,
                 "How long a reservation naming a product with no stock yet is retried")
      ->envname("BAZAAR_INVENTORY_UNKNOWN_PRODUCT_GRACE_MS")
      ->check(CLI::Range(0, 3'600'000));
  CLI11_PARSE(app, argc, argv);
  return bazaar::events::run_main("bazaar-inventory", [&] {
    bazaar::events::Service service(cfg);
    bazaar::inventory::InventoryHandler handler(std::chrono::seconds{ttl_seconds},
                                                std::chrono::milliseconds{grace_ms});
    bazaar::inventory::InventoryHandler listings(std::chrono::seconds{ttl_seconds},
                                                 std::chrono::milliseconds{grace_ms});
    namespace topic = bazaar::contracts::topic;
    // Per-key order matters (a reservation's commands): a dead-lettered key parks the rest.
    service.add_processor("inventory", {topic::kInventoryCommands}, handler, true);
    // Listings in a group of their own, so that the reservations' fetches name only
    // inventory.commands (the broker reads every partition a fetch names). Both lock stock rows
    // in ascending id only.
    service.add_processor("inventory-catalog", {topic::kCatalogEvents}, listings, true);
    service.add_periodic(
        "reservation expiry", std::chrono::seconds{1},
        [](bazaar::events::TaskContext& ctx) { bazaar::inventory::expire_reservations(ctx); });
    return service.run();
  });
}
