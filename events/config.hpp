#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace CLI {
class App;
}

namespace bazaar::events {

/// What every service reads from its environment, typed and validated once in `main`.
struct PlatformConfig {
  std::string service;  ///< fixed by the service's main, e.g. "order"
  std::string kafka_brokers;
  std::string db_url;
  std::string admin_host = "127.0.0.1";
  std::uint16_t admin_port = 0;  ///< 0 picks a free port
  std::string log_level = "info";
  std::filesystem::path schemas_dir;
  std::filesystem::path migrations_dir;
  int topic_partitions = 6;
  int replication_factor = 1;
  std::string kafka_compression = "none";  ///< the producers' compression.type
  int relay_batch = 500;
  int relay_poll_ms = 500;
  int relay_lease_ms = 5'000;
  int retention_hours = 24 * 7;
  int startup_wait_ms = 30'000;  ///< how long start-up waits for PostgreSQL and Kafka
  std::string crash_at;          ///< fault tests: a crash point to exit at, `<point>[:<nth>]`
  bool dev_mode = false;
};

/// Registers the shared options on `app`. Each is also read from an environment variable:
/// BAZAAR_KAFKA_BROKERS, BAZAAR_<SERVICE>_DB, BAZAAR_<SERVICE>_ADMIN_PORT, BAZAAR_LOG_LEVEL,
/// BAZAAR_SCHEMAS_DIR, BAZAAR_<SERVICE>_MIGRATIONS_DIR, BAZAAR_TOPIC_PARTITIONS, ...
/// `cfg.service` must be set first; defaults for folders point into the source tree.
void add_platform_options(CLI::App& app, PlatformConfig& cfg);

/// The environment variable prefix of a service: "order" -> "BAZAAR_ORDER_".
std::string env_prefix(std::string_view service);

/// A PostgreSQL URL with its password replaced by `***`, safe to log.
std::string redact_url(std::string_view url);

/// The configuration as JSON with secrets redacted, for the start-up log line.
boost::json::object describe(const PlatformConfig& cfg);

}  // namespace bazaar::events
