// bazaar-catalog: owns products; applies catalog.commands and publishes catalog.events.
#include <CLI/CLI.hpp>
#include <iostream>

#include "catalog_handler.hpp"
#include "events/service.hpp"

int main(int argc, char** argv) {
  bazaar::events::PlatformConfig cfg;
  cfg.service = "catalog";
  CLI::App app{"bazaar-catalog: applies catalog commands and publishes catalog events"};
  bazaar::events::add_platform_options(app, cfg);
  CLI11_PARSE(app, argc, argv);
  try {
    bazaar::events::Service service(cfg);
    bazaar::catalog::CatalogHandler handler;
    service.add_processor("catalog", {"catalog.commands"}, handler);
    return service.run();
  } catch (const std::exception& e) {
    std::cerr << "bazaar-catalog: " << e.what() << "\n";
    return 1;
  }
}
