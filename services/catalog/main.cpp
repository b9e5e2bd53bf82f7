// bazaar-catalog: owns products; applies catalog.commands and publishes catalog.events.
#include <CLI/CLI.hpp>

#include "catalog_handler.hpp"
#include "contracts/contracts.hpp"
#include "events/service.hpp"
#include "events/startup.hpp"

int main(int argc, char** argv) {
  bazaar::events::PlatformConfig cfg;
  cfg.service = "catalog";
  CLI::App app{"bazaar-catalog: applies catalog commands and publishes catalog events"};
  bazaar::events::add_platform_options(app, cfg);
  CLI11_PARSE(app, argc, argv);
  return bazaar::events::run_main("bazaar-catalog", [&] {
    bazaar::events::Service service(cfg);
    bazaar::catalog::CatalogHandler handler;
    service.add_processor("catalog", {bazaar::contracts::topic::kCatalogCommands}, handler);
    return service.run();
  });
}
