// bazaar-payment: payments and refunds per order, against the sandbox payment provider.
#include <CLI/CLI.hpp>

#include "contracts/contracts.hpp"
#include "events/service.hpp"
#include "events/startup.hpp"
#include "payment_handler.hpp"
#include "sandbox_provider.hpp"

int main(int argc, char** argv) {
  bazaar::events::PlatformConfig cfg;
  cfg.service = "payment";
  CLI::App app{
      "bazaar-payment: charges and refunds orders; consumes payment.commands, "
      "produces payment.events"};
  bazaar::events::add_platform_options(app, cfg);
  std::string default_currency = "EUR";
  app.add_option("--default-currency", default_currency,
                 "Currency reported by a refund of an order that was never charged")
      ->envname("BAZAAR_PAYMENT_DEFAULT_CURRENCY")
      ->check(CLI::Validator(
          [](std::string& c) -> std::string {
            const bool ok = c.size() == 3 &&
                            c.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") == std::string::npos;
            return ok ? std::string{} : "must be three capital letters (ISO 4217)";
          },
          "ISO4217"));
  CLI11_PARSE(app, argc, argv);
  return bazaar::events::run_main("bazaar-payment", [&] {
    bazaar::events::Service service(cfg);
    bazaar::events::UuidV7Generator payment_ids(service.clock(), bazaar::events::system_random());
    bazaar::payment::SandboxProvider provider;
    bazaar::payment::PaymentHandler handler(provider, payment_ids, default_currency);
    service.add_processor("payment", {bazaar::contracts::topic::kPaymentCommands}, handler);
    return service.run();
  });
}
