#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "events/clock.hpp"
#include "events/config.hpp"
#include "events/envelope.hpp"
#include "events/metrics.hpp"
#include "events/processor.hpp"
#include "events/producer.hpp"
#include "events/schema_registry.hpp"
#include "events/uuid.hpp"

namespace soci {
class session;
}

namespace bazaar::events {

class AdminServer;
class Database;
class OutboxWriter;

/// What a periodic task gets: its own database connection and the parts to emit events.
struct TaskContext {
  Database& db;
  const SchemaRegistry& schemas;
  const EnvelopeFactory& factory;
  const Clock& clock;
};

/// Runs `work` in one transaction on the task's connection, with an outbox writer of that
/// transaction: state and emitted events commit together or not at all.
void in_transaction(TaskContext& ctx,
                    const std::function<void(soci::session&, OutboxWriter&)>& work);

/// What every service process runs, built once from its configuration: JSON logs, schemas,
/// migrations (platform, then the service's), the admin server, the outbox relay, and any
/// number of processors. SIGINT and SIGTERM stop it cleanly.
class Service {
 public:
  /// Blocks SIGINT/SIGTERM for every thread it starts, sets up logging, loads the schemas and
  /// migrates the database. Throws when any of it fails: a service must not start half-made.
  explicit Service(PlatformConfig cfg);
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  const PlatformConfig& config() const { return cfg_; }
  const SchemaRegistry& schemas() const { return schemas_; }
  const EnvelopeFactory& factory() const { return factory_; }
  const Clock& clock() const { return clock_; }
  Metrics& metrics() { return metrics_; }
  Producer& producer() { return producer_; }

  /// How a consumer fetches. `at_once`: each record as soon as it lands, for the saga's path.
  /// `in_bulk`: the broker holds a fetch up to half a second until a mebibyte is there, for
  /// consumers no saga waits for (analytics, notifications, dashboards). They see records up
  /// to that much later, in batches that share one transaction, one relay pass and one fetch.
  enum class Fetch { at_once, in_bulk };
  /// Runs `handler` for consumer group `group` on `topics`, on its own thread, once run() starts.
  /// `quarantine`: per-key order matters, so a dead-lettered key parks its later records.
  void add_processor(std::string group, std::vector<std::string> topics, Handler& handler,
                     bool quarantine = false, Fetch fetch = Fetch::at_once);
  /// Runs `task` every `every` on its own thread once run() starts (deadline scanners,
  /// reservation expiry, webhook delivery). A failing run is logged and retried next tick.
  void add_periodic(std::string name, std::chrono::milliseconds every,
                    std::function<void(TaskContext&)> task);
  /// Adds a readiness check of the service's own (edge's connection pool), probed with the
  /// database and the broker; /health/ready and ready() fail while it does.
  void add_readiness(std::string name, std::function<bool()> check);
  /// Whether run() also relays the outbox (default true).
  void relay_outbox(bool enabled) { relay_enabled_ = enabled; }

  /// Starts everything and blocks until a signal or stop(); returns the exit code.
  int run();
  void stop() { stop_.store(true); }
  /// The last readiness probe: database and broker reachable (refreshed every 2 s by run()).
  bool ready() const;
  /// The broker answered the last probe (refreshed every 2 s by run()).
  bool broker_up() const;

 private:
  void probe_dependencies();
  /// Waits up to the configured start-up wait for PostgreSQL, then Kafka; throws StartupError.
  void wait_for_dependencies();

  struct Readiness {
    Readiness(std::string n, std::function<bool()> p) : name(std::move(n)), probe(std::move(p)) {}
    std::string name;
    std::function<bool()> probe;
    std::atomic<bool> up{false};
  };

  PlatformConfig cfg_;
  SystemClock clock_;
  UuidV7Generator ids_;
  EnvelopeFactory factory_;
  SchemaRegistry schemas_;
  Metrics metrics_;
  Producer producer_;
  std::vector<std::unique_ptr<Processor>> processors_;
  struct Periodic {
    std::string name;
    std::chrono::milliseconds every;
    std::function<void(TaskContext&)> task;
  };
  std::vector<Periodic> periodic_;
  bool relay_enabled_ = true;
  std::atomic<bool> stop_{false};
  std::atomic<bool> db_up_{false};
  std::atomic<bool> kafka_up_{false};
  std::deque<Readiness> readiness_;  // a deque: atomics do not move
};

}  // namespace bazaar::events
