#include "events/config.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>

#ifndef BAZAAR_SOURCE_ROOT
#error "BAZAAR_SOURCE_ROOT must name the source tree"
#endif

namespace bazaar::events {
namespace {

const CLI::Validator kPostgresUrl(
    [](std::string& url) -> std::string {
      if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0) return {};
      return "must be a postgresql:// URL";
    },
    "URL");

const CLI::Validator kLogLevel(
    [](std::string& level) -> std::string {
      static const char* const kLevels[] = {"trace", "debug", "info", "warn", "error"};
      for (const char* l : kLevels) {
        if (level == l) return {};
      }
      return "must be one of trace, debug, info, warn, error";
    },
    "LEVEL");

}  // namespace

std::string env_prefix(std::string_view service) {
  std::string out = "BAZAAR_";
  for (char c : service) {
    out.push_back(c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  out.push_back('_');
  return out;
}

void add_platform_options(CLI::App& app, PlatformConfig& cfg) {
  const std::string svc = env_prefix(cfg.service);
  const std::string root = BAZAAR_SOURCE_ROOT;
  cfg.schemas_dir = root + "/schemas";
  cfg.migrations_dir = root + "/services/" + cfg.service + "/migrations";

  app.option_defaults()->always_capture_default();
  app.add_option("--kafka-brokers", cfg.kafka_brokers, "Kafka bootstrap servers, host:port[,...]")
      ->envname("BAZAAR_KAFKA_BROKERS")
      ->required();
  app.add_option("--db", cfg.db_url, "PostgreSQL URL of this service's own database")
      ->envname(svc + "DB")
      ->required()
      ->check(kPostgresUrl);
  app.add_option("--admin-host", cfg.admin_host, "Address of the /health and /metrics server")
      ->envname("BAZAAR_ADMIN_HOST");
  app.add_option("--admin-port", cfg.admin_port, "Port of the /health and /metrics server (0: any)")
      ->envname(svc + "ADMIN_PORT")
      ->check(CLI::Range(0, 65535));
  app.add_option("--log-level", cfg.log_level, "trace, debug, info, warn or error")
      ->envname("BAZAAR_LOG_LEVEL")
      ->check(kLogLevel);
  app.add_option("--schemas-dir", cfg.schemas_dir, "Folder of the event JSON Schemas")
      ->envname("BAZAAR_SCHEMAS_DIR")
      ->check(CLI::ExistingDirectory);
  app.add_option("--migrations-dir", cfg.migrations_dir, "Folder of this service's NNN_name.sql")
      ->envname(svc + "MIGRATIONS_DIR");
  app.add_option("--topic-partitions", cfg.topic_partitions, "Partitions of topics it creates")
      ->envname("BAZAAR_TOPIC_PARTITIONS")
      ->check(CLI::Range(1, 1000));
  app.add_option("--replication-factor", cfg.replication_factor, "Replication of topics it creates")
      ->envname("BAZAAR_REPLICATION_FACTOR")
      ->check(CLI::Range(1, 10));
  app.add_option("--kafka-compression", cfg.kafka_compression,
                 "Compression of the records this service produces: none, lz4, zstd, snappy or "
                 "gzip (none costs the least CPU next to the broker; a remote broker may prefer "
                 "lz4)")
      ->envname("BAZAAR_KAFKA_COMPRESSION")
      ->check(CLI::IsMember({"none", "lz4", "zstd", "snappy", "gzip"}));
  app.add_option("--relay-batch", cfg.relay_batch, "Outbox rows published per relay pass")
      ->envname("BAZAAR_RELAY_BATCH")
      ->check(CLI::Range(1, 100000));
  app.add_option("--relay-poll-ms", cfg.relay_poll_ms,
                 "Outbox polling fallback when no NOTIFY comes")
      ->envname("BAZAAR_RELAY_POLL_MS")
      ->check(CLI::Range(10, 600000));
  app.add_option("--relay-lease-ms", cfg.relay_lease_ms,
                 "A relay that stops renewing its lease for this long loses it to another instance")
      ->envname("BAZAAR_RELAY_LEASE_MS")
      ->check(CLI::Range(300, 600'000));
  app.add_option("--retention-hours", cfg.retention_hours,
                 "How long published outbox and inbox rows stay")
      ->envname("BAZAAR_RETENTION_HOURS")
      ->check(CLI::Range(1, 24 * 365));
  app.add_option("--startup-wait-ms", cfg.startup_wait_ms,
                 "How long start-up waits for PostgreSQL and Kafka before giving up")
      ->envname("BAZAAR_STARTUP_WAIT_MS")
      ->check(CLI::Range(0, 3'600'000));
  app.add_option("--crash-at", cfg.crash_at,
                 "Fault tests only: exit at once at this crash point, <point>[:<nth>]; points: "
                 "after_commit_before_offset, between_batch_records, relay_after_send, "
                 "relay_after_mark, deadline_scan_before_update")
      ->envname("BAZAAR_CRASH_AT");
  app.add_flag("--dev", cfg.dev_mode,
               "Development mode, as scripts/run starts it (only logged: no service has defaults "
               "for secrets)")
      ->envname("BAZAAR_DEV_MODE");
}

std::string redact_url(std::string_view url) {
  std::string out(url);
  // The userinfo ends at the last '@' before the path, as the URL parser reads it.
  const auto scheme = out.find("://");
  if (scheme != std::string::npos) {
    const auto path = out.find_first_of("/?", scheme + 3);
    const auto at = out.rfind('@', path == std::string::npos ? std::string::npos : path);
    if (at != std::string::npos && at > scheme) {
      const auto colon = out.find(':', scheme + 3);
      if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
    }
  }
  // A password given as a query parameter is masked as well.
  for (auto p = out.find("password="); p != std::string::npos; p = out.find("password=", p + 1)) {
    const auto value = p + 9;
    const auto end = out.find('&', value);
    out.replace(value, (end == std::string::npos ? out.size() : end) - value, "***");
  }
  return out;
}

boost::json::object describe(const PlatformConfig& cfg) {
  return {
      {"service", cfg.service},
      {"kafka_brokers", cfg.kafka_brokers},
      {"db", redact_url(cfg.db_url)},
      {"admin", cfg.admin_host + ":" + std::to_string(cfg.admin_port)},
      {"log_level", cfg.log_level},
      {"schemas_dir", cfg.schemas_dir.string()},
      {"migrations_dir", cfg.migrations_dir.string()},
      {"topic_partitions", cfg.topic_partitions},
      {"replication_factor", cfg.replication_factor},
      {"kafka_compression", cfg.kafka_compression},
      {"relay_batch", cfg.relay_batch},
      {"relay_poll_ms", cfg.relay_poll_ms},
      {"relay_lease_ms", cfg.relay_lease_ms},
      {"retention_hours", cfg.retention_hours},
      {"startup_wait_ms", cfg.startup_wait_ms},
      {"crash_at", cfg.crash_at},
      {"dev_mode", cfg.dev_mode},
  };
}

}  // namespace bazaar::events
