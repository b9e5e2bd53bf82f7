// bazaar-analytics: aggregates of every public *.events topic, published as StatsSnapshot
// events on analytics.events (keyed by metric) when they change.
#include <CLI/CLI.hpp>
#include <chrono>

#include "analytics_handler.hpp"
#include "events/service.hpp"
#include "events/startup.hpp"
#include "snapshots.hpp"

int main(int argc, char** argv) {
  namespace analytics = bazaar::analytics;
  bazaar::events::PlatformConfig cfg;
  cfg.service = "analytics";
  CLI::App app{
      "bazaar-analytics: sales, orders by status, saga durations, failure reasons and "
      "stock-outs from every *.events topic; publishes StatsSnapshot events on "
      "analytics.events"};
  bazaar::events::add_platform_options(app, cfg);
  int interval_ms = 2000;
  int refresh_s = 3600;
  app.add_option("--snapshot-interval-ms", interval_ms,
                 "How often changed metrics are published (at most once per interval each)")
      ->envname("BAZAAR_ANALYTICS_SNAPSHOT_INTERVAL_MS")
      ->check(CLI::Range(100, 600'000));
  app.add_option("--snapshot-refresh-s", refresh_s,
                 "Every metric is published again after this long even when unchanged, so a "
                 "new reader of analytics.events finds all of them within the topic's retention")
      ->envname("BAZAAR_ANALYTICS_SNAPSHOT_REFRESH_S")
      ->check(CLI::Range(10, 7 * 24 * 3600));
  CLI11_PARSE(app, argc, argv);
  return bazaar::events::run_main("bazaar-analytics", [&] {
    bazaar::events::Service service(cfg);
    analytics::AnalyticsHandler handler;
    service.add_processor("analytics", analytics::analytics_topics(), handler, false,
                          bazaar::events::Service::Fetch::in_bulk);
    const std::chrono::seconds refresh{refresh_s};
    service.add_periodic("snapshots", std::chrono::milliseconds{interval_ms},
                         [refresh](bazaar::events::TaskContext& ctx) {
                           analytics::publish_snapshots(ctx, refresh);
                         });
    return service.run();
  });
}
