#include "events/service.hpp"

#include <signal.h>
#include <soci/soci.h>
#include <spdlog/spdlog.h>

#include <boost/json/serialize.hpp>
#include <ctime>
#include <filesystem>
#include <thread>

#include "events/admin_server.hpp"
#include "events/backoff.hpp"
#include "events/crash_points.hpp"
#include "events/db.hpp"
#include "events/log.hpp"
#include "events/migrations.hpp"
#include "events/outbox.hpp"
#include "events/startup.hpp"

namespace bazaar::events {
namespace {

sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

void require_folder(const std::filesystem::path& folder, const char* what) {
  std::error_code ec;
  if (!std::filesystem::is_directory(folder, ec)) {
    throw StartupError(ExitCode::missing_file,
                       std::string(what) + " " + folder.string() + " does not exist");
  }
}

// Signals are blocked before any thread starts, so they all inherit the mask and only run()
// receives them, synchronously, through sigtimedwait.
const PlatformConfig& prepare(const PlatformConfig& cfg) {
  const sigset_t set = stop_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  log::init(cfg.service, cfg.log_level);
  spdlog::info("starting with {}", boost::json::serialize(describe(cfg)));
  require_folder(cfg.schemas_dir, "schema folder");
  require_folder(cfg.migrations_dir, "migration folder");
  try {
    arm_crash_point(cfg.crash_at);
  } catch (const std::invalid_argument& e) {
    throw StartupError(ExitCode::bad_config, e.what());
  }
  return cfg;
}

}  // namespace

void in_transaction(TaskContext& ctx,
                    const std::function<void(soci::session&, OutboxWriter&)>& work) {
  soci::session& sql = ctx.db.session();
  soci::transaction tx(sql);
  OutboxWriter outbox(sql, ctx.schemas);
  work(sql, outbox);
  outbox.commit(tx);
}

Service::Service(PlatformConfig cfg)
    : cfg_(prepare(cfg)),
      ids_(clock_, system_random()),
      factory_(cfg_.service, clock_, ids_, system_random()),
      schemas_(cfg_.schemas_dir),
      metrics_(cfg_.service),
      producer_(cfg_.kafka_brokers,
                {{"client.id", cfg_.service}, {"compression.type", cfg_.kafka_compression}}) {
  wait_for_dependencies();
  Database db(cfg_.db_url);
  const int platform = migrate(db, "platform", platform_migrations());
  const int own = migrate(db, cfg_.service, load_migrations(cfg_.migrations_dir));
  spdlog::info("schemas: {} event types; migrations applied: {} platform, {} {}",
               schemas_.types().size(), platform, own, cfg_.service);
}

Service::~Service() = default;

void Service::wait_for_dependencies() {
  const auto until =
      std::chrono::steady_clock::now() + std::chrono::milliseconds{cfg_.startup_wait_ms};
  Backoff backoff({.initial = std::chrono::milliseconds{100}, .max = std::chrono::seconds{2}});
  bool logged = false;
  auto wait = [&](const std::string& what, const std::function<bool()>& reachable, ExitCode code) {
    while (!reachable()) {
      if (std::chrono::steady_clock::now() >= until) {
        throw StartupError(code, what + " still unreachable after " +
                                     std::to_string(cfg_.startup_wait_ms) + " ms");
      }
      if (!logged) spdlog::warn("waiting up to {} ms for {}", cfg_.startup_wait_ms, what);
      logged = true;
      std::this_thread::sleep_for(backoff.next());
    }
  };
  wait(
      "PostgreSQL at " + redact_url(cfg_.db_url),
      [this] { return database_reachable(cfg_.db_url); }, ExitCode::database_unreachable);
  wait(
      "Kafka at " + cfg_.kafka_brokers,
      [this] { return producer_.broker_reachable(std::chrono::seconds{2}); },
      ExitCode::broker_unreachable);
}

void Service::add_processor(std::string group, std::vector<std::string> topics, Handler& handler,
                            bool quarantine, Fetch fetch) {
  ProcessorSettings settings{
      .brokers = cfg_.kafka_brokers,
      .group = std::move(group),
      .topics = std::move(topics),
      .db_url = cfg_.db_url,
      .dlq_partitions = cfg_.topic_partitions,
      .replication_factor = cfg_.replication_factor,
      .quarantine = quarantine,
  };
  // A bulk consumer lets the broker gather up to a megabyte for the whole fetch wait.
  if (fetch == Fetch::in_bulk) settings.fetch_min_bytes = 1 << 20;
  processors_.push_back(std::make_unique<Processor>(std::move(settings), handler, schemas_,
                                                    factory_, producer_, &metrics_));
}

bool Service::ready() const {
  if (!db_up_.load() || !kafka_up_.load()) return false;
  for (const auto& check : readiness_) {
    if (!check.up.load()) return false;
  }
  return true;
}

bool Service::broker_up() const {
  return kafka_up_.load();
}

void Service::add_readiness(std::string name, std::function<bool()> check) {
  readiness_.emplace_back(std::move(name), std::move(check));
}

void Service::probe_dependencies() {
  db_up_.store(database_reachable(cfg_.db_url));
  kafka_up_.store(producer_.broker_reachable(std::chrono::seconds{2}));
  for (auto& check : readiness_) {
    bool up = false;
    try {
      up = check.probe();
    } catch (const std::exception& e) {
      spdlog::debug("readiness check {}: {}", check.name, error_summary(e));
    }
    check.up.store(up);
  }
}

void Service::add_periodic(std::string name, std::chrono::milliseconds every,
                           std::function<void(TaskContext&)> task) {
  periodic_.push_back({std::move(name), every, std::move(task)});
}

int Service::run() {
  // The admin server binds first: a taken port must end the process before any thread runs.
  AdminServer admin(
      cfg_.admin_host, cfg_.admin_port,
      [this] {
        ReadinessReport report{{"database", db_up_.load()}, {"kafka", kafka_up_.load()}};
        for (const auto& check : readiness_) report.emplace_back(check.name, check.up.load());
        return report;
      },
      [this] { return metrics_.render(); });
  spdlog::info("admin server on http://{}:{}", cfg_.admin_host, admin.port());

  // Readiness is probed on its own thread and served from the last result, so a slow broker
  // or database never holds up /health/live or /metrics behind a blocked probe.
  probe_dependencies();
  // Declared before the threads that use them: they must outlive the joins below.
  std::atomic<int> failed{0};
  std::unique_ptr<OutboxRelay> relay;
  // Whatever leaves this function, an exception included, stops and joins every thread first.
  struct Threads {
    std::atomic<bool>& stop;
    std::vector<std::thread> all;
    void join() {
      stop.store(true);
      for (auto& t : all) t.join();
      all.clear();
    }
    ~Threads() { join(); }
  } threads{stop_, {}};
  threads.all.emplace_back([&] {
    while (!stop_.load()) {
      for (int i = 0; i < 20 && !stop_.load(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds{100});
      }
      probe_dependencies();
    }
  });

  auto guarded = [this, &failed](const char* what, auto body) {
    return [this, &failed, what, body] {
      try {
        body();
      } catch (const std::exception& e) {
        spdlog::error("{} stopped: {}", what, error_summary(e));
        failed.store(1);
        stop_.store(true);
      }
    };
  };
  if (relay_enabled_) {
    relay = std::make_unique<OutboxRelay>(
        RelaySettings{.db_url = cfg_.db_url,
                      .batch = cfg_.relay_batch,
                      .poll = std::chrono::milliseconds{cfg_.relay_poll_ms},
                      .retention = std::chrono::hours{cfg_.retention_hours},
                      .lease = std::chrono::milliseconds{cfg_.relay_lease_ms}},
        producer_, &metrics_);
    threads.all.emplace_back(guarded("outbox relay", [&] { relay->run(stop_); }));
  }
  for (auto& p : processors_) {
    threads.all.emplace_back(guarded("processor", [&p, this] { p->run(stop_); }));
  }
  for (auto& p : periodic_) {
    threads.all.emplace_back([this, &p] {
      Database db(cfg_.db_url);
      TaskContext ctx{db, schemas_, factory_, clock_};
      while (!stop_.load()) {
        try {
          p.task(ctx);
        } catch (const std::exception& e) {
          // The next tick retries; a broken connection is reopened first.
          spdlog::warn("{}: {}", p.name, error_summary(e));
          if (!db.connected()) db.reset();
        }
        const auto until = std::chrono::steady_clock::now() + p.every;
        while (!stop_.load() && std::chrono::steady_clock::now() < until) {
          std::this_thread::sleep_for(
              std::min<std::chrono::milliseconds>(p.every, std::chrono::milliseconds{50}));
        }
      }
    });
  }
  spdlog::info("{} running", cfg_.service);

  const sigset_t set = stop_signals();
  const timespec tick{0, 200'000'000};
  while (!stop_.load()) {
    const int sig = sigtimedwait(&set, nullptr, &tick);
    if (sig == SIGINT || sig == SIGTERM) {
      spdlog::info("signal {} received; stopping", sig);
      stop_.store(true);
    }
  }
  threads.join();
  spdlog::info("{} stopped", cfg_.service);
  return failed.load();
}

}  // namespace bazaar::events
