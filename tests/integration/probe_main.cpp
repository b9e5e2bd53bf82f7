// bazaar-probe: a minimal service on the events platform, for fault tests that need a real
// process to kill. It relays its outbox and, given --topic, applies Probe events from it.
#include <CLI/CLI.hpp>

#include "events/service.hpp"
#include "events/startup.hpp"
#include "probe_handler.hpp"

int main(int argc, char** argv) {
  bazaar::events::PlatformConfig cfg;
  cfg.service = "probe";
  CLI::App app{"bazaar-probe: relays its outbox and applies bazaar.test.Probe.v1 events"};
  bazaar::events::add_platform_options(app, cfg);
  std::vector<std::string> topics;
  std::string group = "probe";
  app.add_option("--topic", topics, "Topics to consume Probe events from");
  app.add_option("--group", group, "Consumer group");
  CLI11_PARSE(app, argc, argv);
  return bazaar::events::run_main("bazaar-probe", [&] {
    bazaar::events::Service service(cfg);
    bazaar::tests::ProbeHandler handler(group);
    if (!topics.empty()) service.add_processor(group, topics, handler);
    return service.run();
  });
}
