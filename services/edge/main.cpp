// bazaar-edge: the public HTTP/1.1 and WebSocket API. It talks to the other services only
// through Kafka and answers reads from its own projections.
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <optional>
#include <set>

#include "admin/stats_projection.hpp"
#include "api.hpp"
#include "auth/auth_api.hpp"
#include "catalog/catalog_projection.hpp"
#include "events/db.hpp"
#include "events/service.hpp"
#include "events/startup.hpp"
#include "http/cursor.hpp"
#include "http/http_server.hpp"
#include "notifications/notification_projection.hpp"
#include "orders/idempotency.hpp"
#include "orders/order_projection.hpp"
#include "pg_listener.hpp"

namespace {

// Opens /ws for callers with a valid token (Authorization header or ?access_token=).
class EdgeHub final : public bazaar::edge::WebSocketHub {
 public:
  explicit EdgeHub(bazaar::edge::Authenticator authenticate)
      : authenticate_(std::move(authenticate)) {}
  std::optional<bazaar::edge::Principal> authenticate(const bazaar::edge::HttpRequest& r) override {
    return authenticate_(r);
  }

 private:
  bazaar::edge::Authenticator authenticate_;
};

}  // namespace

int main(int argc, char** argv) {
  namespace edge = bazaar::edge;
  bazaar::events::PlatformConfig cfg;
  cfg.service = "edge";
  CLI::App app{"bazaar-edge: the public HTTP/1.1 and WebSocket API of bazaar"};
  bazaar::events::add_platform_options(app, cfg);
  edge::HttpServerOptions http;
  // Handlers may hold a thread for a long poll (Prefer: wait), and placements waiting together
  // are written in one transaction: the request threads bound both.
  http.threads = 32;
  edge::TokenSettings jwt;
  std::string admin_email;
  std::string admin_password;
  std::uint32_t argon2_kib = 64 * 1024;
  std::uint32_t argon2_passes = 3;
  const std::string root = BAZAAR_SOURCE_ROOT;
  std::string openapi = root + "/schemas/openapi.yaml";
  std::string docs_dir = root + "/.deps/swagger-ui-5.35.0";
  std::string dashboard_dir = root + "/.deps/chart.js-4.6.1";
  edge::AdmissionPolicy admission;
  int admission_wait_ms = static_cast<int>(admission.max_wait.count());
  int read_ms = 10'000;
  int product_cache_mib = 16;
  int role_cache_users = 100000;
  int idle_ms = 60'000;
  edge::AuthRateLimit auth_rate;
  app.add_option("--host", http.host, "Address of the public API")->envname("BAZAAR_EDGE_HOST");
  app.add_option("--port", http.port, "Port of the public API")
      ->envname("BAZAAR_EDGE_PORT")
      ->check(CLI::Range(0, 65535));
  app.add_option("--jwt-secret", jwt.secret, "HS256 signing key, at least 32 bytes (secret)")
      ->envname("BAZAAR_JWT_SECRET")
      ->required();
  app.add_option("--jwt-issuer", jwt.issuer, "iss of issued tokens")->envname("BAZAAR_JWT_ISSUER");
  app.add_option("--jwt-audience", jwt.audience, "aud of issued tokens")
      ->envname("BAZAAR_JWT_AUDIENCE");
  app.add_option("--admin-email", admin_email, "The first admin, created at start-up if missing")
      ->envname("BAZAAR_ADMIN_EMAIL")
      ->required();
  app.add_option("--admin-password", admin_password, "The first admin's password (secret)")
      ->envname("BAZAAR_ADMIN_PASSWORD")
      ->required();
  app.add_option("--max-body-bytes", http.max_body_bytes, "Largest request body accepted")
      ->envname("BAZAAR_EDGE_MAX_BODY_BYTES")
      ->check(CLI::Range(1024, 64 * 1024 * 1024));
  app.add_option("--max-header-bytes", http.max_header_bytes, "Largest request head accepted")
      ->envname("BAZAAR_EDGE_MAX_HEADER_BYTES")
      ->check(CLI::Range(1024, 1024 * 1024));
  app.add_option("--read-timeout-ms", read_ms, "A whole request must arrive within this")
      ->envname("BAZAAR_EDGE_READ_TIMEOUT_MS")
      ->check(CLI::Range(100, 600'000));
  app.add_option("--idle-timeout-ms", idle_ms, "Keep-alive connections idle longer are closed")
      ->envname("BAZAAR_EDGE_IDLE_TIMEOUT_MS")
      ->check(CLI::Range(100, 3'600'000));
  app.add_option("--auth-rate-per-minute", auth_rate.per_minute,
                 "Sign-in, sign-up and one-time-code requests a client address may make a minute")
      ->envname("BAZAAR_EDGE_AUTH_RATE_PER_MINUTE")
      ->check(CLI::Range(1.0, 1e9));
  app.add_option("--auth-burst", auth_rate.burst,
                 "Such requests a client address may make at once before the rate applies")
      ->envname("BAZAAR_EDGE_AUTH_BURST")
      ->check(CLI::Range(1.0, 1e9));
  app.add_option("--http-threads", http.threads, "Request worker threads")
      ->envname("BAZAAR_EDGE_HTTP_THREADS")
      ->check(CLI::Range(1, 256));
  app.add_option("--http-io-threads", http.io_threads,
                 "Threads that read and write connections (0: one per core)")
      ->envname("BAZAAR_EDGE_HTTP_IO_THREADS")
      ->check(CLI::Range(0, 256));
  app.add_option("--argon2-memory-kib", argon2_kib, "argon2id memory per hash")
      ->envname("BAZAAR_EDGE_ARGON2_MEMORY_KIB")
      ->check(CLI::Range(8, 4 * 1024 * 1024));
  app.add_option("--argon2-passes", argon2_passes, "argon2id passes per hash")
      ->envname("BAZAAR_EDGE_ARGON2_PASSES")
      ->check(CLI::Range(1, 100));
  app.add_option("--openapi", openapi, "The API document served at /openapi.yaml")
      ->envname("BAZAAR_EDGE_OPENAPI")
      ->check(CLI::ExistingFile);
  app.add_option("--docs-dir", docs_dir, "swagger-ui assets for /docs (installed by scripts/setup)")
      ->envname("BAZAAR_EDGE_DOCS_DIR")
      ->check(CLI::ExistingDirectory);
  app.add_option("--dashboard-dir", dashboard_dir,
                 "Chart.js for /admin/dashboard (installed by scripts/setup)")
      ->envname("BAZAAR_EDGE_DASHBOARD_DIR")
      ->check(CLI::ExistingDirectory);
  app.add_option("--product-cache-mib", product_cache_mib,
                 "Memory for product answers kept between changes (0: every read asks the "
                 "database)")
      ->envname("BAZAAR_EDGE_PRODUCT_CACHE_MIB")
      ->check(CLI::Range(0, 4096));
  app.add_option("--role-cache-users", role_cache_users,
                 "Accounts whose role is kept between changes (0: every authenticated request "
                 "asks the database)")
      ->envname("BAZAAR_EDGE_ROLE_CACHE_USERS")
      ->check(CLI::Range(0, 10000000));
  app.add_option("--admission-max-wait-ms", admission_wait_ms,
                 "Refuse new orders (503, Retry-After) when the sagas in flight would keep one "
                 "waiting longer than this at the rate orders are finishing (0: never)")
      ->envname("BAZAAR_EDGE_ADMISSION_MAX_WAIT_MS")
      ->check(CLI::Range(0, 3'600'000));
  app.add_option("--admission-max-in-flight", admission.max_in_flight,
                 "Refuse new orders while this many are in flight (0: no fixed limit)")
      ->envname("BAZAAR_EDGE_ADMISSION_MAX_IN_FLIGHT")
      ->check(CLI::Range(0LL, 10'000'000LL));
  CLI11_PARSE(app, argc, argv);
  http.read_timeout = std::chrono::milliseconds{read_ms};
  http.websocket_lifetime = jwt.access_ttl;
  http.idle_timeout = std::chrono::milliseconds{idle_ms};
  return bazaar::events::run_main("bazaar-edge", [&] {
    bazaar::events::Service service(cfg);
    edge::EdgeDb db(cfg.db_url, static_cast<std::size_t>(http.threads) + 2, service.schemas());
    // Ready only while the pool itself answers: a pool that cannot reconnect must not pass.
    service.add_readiness("database_pool", [&db] { return db.probe(); });
    // Waiting requests may take half the request threads: the rest keep answering.
    edge::OrderWaiters waiters(
        service.clock(), std::max<std::size_t>(1, static_cast<std::size_t>(http.threads) / 2));
    admission.max_wait = std::chrono::milliseconds{admission_wait_ms};
    edge::AdmissionControl admission_control(admission);
    edge::ApiContext api{db,
                         service.schemas(),
                         service.factory(),
                         service.clock(),
                         waiters,
                         &admission_control,
                         [&service] { return service.broker_up(); }};
    // Product answers kept in memory; forgotten by edge's own writers as they write, and by
    // the notifications of products_view (migration 010) for every other writer.
    auto& cache_answers = prometheus::BuildCounter()
                              .Name("bazaar_edge_product_cache_total")
                              .Help("Product reads by whether memory held their answer")
                              .Labels({{"service", "edge"}})
                              .Register(service.metrics().registry());
    edge::ProductCache product_cache(static_cast<std::size_t>(product_cache_mib) << 20U,
                                     &cache_answers.Add({{"answer", "hit"}}),
                                     &cache_answers.Add({{"answer", "miss"}}));
    // Keepalives on the listeners' connections: one that went silently half-open must not leave
    // answers kept that nobody will ever say were replaced (at most ~25 s).
    const std::string listener_conninfo =
        bazaar::events::to_conninfo(cfg.db_url) +
        " keepalives=1 keepalives_idle=10 keepalives_interval=5 keepalives_count=3";
    std::optional<edge::PgListener> product_changes;
    if (product_cache_mib > 0) {
      api.product_cache = &product_cache;
      product_changes.emplace(
          listener_conninfo, "products_view_changed",
          edge::PgListener::Callbacks{
              [&product_cache](const std::string& id) {
                product_cache.forget(id == "*" ? std::string{} : id);
              },
              [&product_cache](bool listening) { product_cache.watch(listening); }});
    }
    // Placements written together (OrderPlacement::place_lines): how many wait, how many a
    // batch held.
    auto& queued = prometheus::BuildGauge()
                       .Name("bazaar_edge_order_placements_queued")
                       .Help("Order placements waiting for the batch that writes them")
                       .Labels({{"service", "edge"}})
                       .Register(service.metrics().registry());
    auto& batches = prometheus::BuildHistogram()
                        .Name("bazaar_edge_order_placement_batch_size")
                        .Help("Order placements written by one transaction")
                        .Labels({{"service", "edge"}})
                        .Register(service.metrics().registry());
    api.placements_queued = &queued.Add({});
    api.placement_batches =
        &batches.Add({}, prometheus::Histogram::BucketBoundaries{1, 2, 4, 8, 16, 32, 64});
    // Roles kept likewise: forgotten by the account routes once they committed, and by the
    // notifications of users (migration 013) for every other writer.
    auto& role_answers = prometheus::BuildCounter()
                             .Name("bazaar_edge_role_cache_total")
                             .Help("Authenticated requests by whether memory held the role")
                             .Labels({{"service", "edge"}})
                             .Register(service.metrics().registry());
    edge::RoleCache role_cache(static_cast<std::size_t>(role_cache_users),
                               &role_answers.Add({{"answer", "hit"}}),
                               &role_answers.Add({{"answer", "miss"}}));
    std::optional<edge::PgListener> user_changes;
    if (role_cache_users > 0) {
      api.role_cache = &role_cache;
      user_changes.emplace(listener_conninfo, "users_changed",
                           edge::PgListener::Callbacks{
                               [&role_cache](const std::string& id) { role_cache.forget(id); },
                               [&role_cache](bool listening) { role_cache.watch(listening); }});
    }
    const edge::TokenService tokens(jwt, service.clock());
    edge::set_cursor_secret(jwt.secret);  // every instance reads the cursors of the others
    const edge::PasswordParams passwords{argon2_kib, argon2_passes, 1};
    edge::ensure_first_admin(api, admin_email, admin_password, passwords);

    edge::Router router(edge::make_authenticator(tokens, db, api.role_cache));
    // The public /health/ready answers from the service's own cached probe (database and
    // broker), so anonymous calls never open connections.
    edge::register_api(router, api, tokens,
                       {passwords, {openapi, docs_dir}, {dashboard_dir}, auth_rate},
                       [&service] { return service.ready(); });

    edge::LivePush live;
    edge::CatalogProjection catalog(live, api.product_cache);
    edge::NotificationProjection notifications(live);
    edge::StatsProjection stats(live);
    edge::OrderProjection orders(waiters);
    service.add_processor(edge::CatalogProjection::kGroup, edge::CatalogProjection::topics(),
                          catalog);
    service.add_processor(edge::NotificationProjection::kGroup,
                          {bazaar::contracts::topic::kNotificationEvents}, notifications);
    service.add_processor(edge::kOrderProjectionGroup, edge::OrderProjection::topics(), orders);
    service.add_processor(edge::StatsProjection::kGroup,
                          {bazaar::contracts::topic::kAnalyticsEvents}, stats, false,
                          bazaar::events::Service::Fetch::in_bulk);
    service.add_periodic("idempotency key purge", std::chrono::hours{1},
                         [](bazaar::events::TaskContext& ctx) {
                           edge::purge_idempotency_keys(ctx.db.session(), std::chrono::hours{24});
                         });

    EdgeHub hub(edge::make_authenticator(tokens, db, api.role_cache));
    // Latency by method and status class: bounded labels, never a path with ids in it.
    auto& latency = prometheus::BuildHistogram()
                        .Name("bazaar_http_request_seconds")
                        .Help("Time to answer a public API request")
                        .Labels({{"service", "edge"}})
                        .Register(service.metrics().registry());
    const prometheus::Histogram::BucketBoundaries buckets{0.001, 0.005, 0.01, 0.05, 0.1,
                                                          0.5,   1,     5,    30};
    edge::HttpServer server(
        http,
        [&router, &latency, &buckets](const edge::HttpRequest& r) {
          const auto started = std::chrono::steady_clock::now();
          edge::HttpResponse answer = router.handle(r);
          static const std::set<std::string> kMethods{"GET",   "POST",   "PUT",
                                                      "PATCH", "DELETE", "HEAD"};
          const std::string method = kMethods.contains(r.method) ? r.method : "OTHER";
          latency
              .Add({{"method", method}, {"status", std::to_string(answer.status / 100) + "xx"}},
                   buckets)
              .Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - started)
                           .count());
          return answer;
        },
        hub);
    live.set(&server.publisher());
    spdlog::info("public API on http://{}:{}", http.host, server.port());
    const int code = service.run();
    live.set(nullptr);
    return code;
  });
}
