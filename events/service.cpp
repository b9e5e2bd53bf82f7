#include "events/service.hpp"

#include <signal.h>
#include <soci/soci.h>
#include <spdlog/spdlog.h>

#include <boost/json/serialize.hpp>
#include <ctime>
#include <thread>

#include "events/admin_server.hpp"
#include "events/db.hpp"
#include "events/log.hpp"
#include "events/migrations.hpp"
#include "events/outbox.hpp"

namespace bazaar::events {
namespace {

sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

// Signals are blocked before any thread starts, so they all inherit the mask and only run()
// receives them, synchronously, through sigtimedwait.
const PlatformConfig& block_signals_then(const PlatformConfig& cfg) {
  const sigset_t set = stop_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  log::init(cfg.service, cfg.log_level);
  spdlog::info("starting with {}", boost::json::serialize(describe(cfg)));
  return cfg;
}

}  // namespace

void in_transaction(TaskContext& ctx,
                    const std::function<void(soci::session&, OutboxWriter&)>& work) {
  soci::session& sql = ctx.db.session();
  soci::transaction tx(sql);
  OutboxWriter outbox(sql, ctx.schemas);
  work(sql, outbox);
  tx.commit();
}

Service::Service(PlatformConfig cfg)
    : cfg_(block_signals_then(cfg)),
      ids_(clock_, system_random()),
      factory_(cfg_.service, clock_, ids_, system_random()),
      schemas_(cfg_.schemas_dir),
      metrics_(cfg_.service),
      producer_(cfg_.kafka_brokers, {{"client.id", cfg_.service}}) {
  Database db(cfg_.db_url);
  const int platform = migrate(db, "platform", platform_migrations());
  const int own = migrate(db, cfg_.service, load_migrations(cfg_.migrations_dir));
  spdlog::info("schemas: {} event types; migrations applied: {} platform, {} {}",
               schemas_.types().size(), platform, own, cfg_.service);
}

Service::~Service() = default;

void Service::add_processor(std::string group, std::vector<std::string> topics, Handler& handler) {
  ProcessorSettings settings{
      .brokers = cfg_.kafka_brokers,
      .group = std::move(group),
      .topics = std::move(topics),
      .db_url = cfg_.db_url,
      .dlq_partitions = cfg_.topic_partitions,
      .replication_factor = cfg_.replication_factor,
  };
  processors_.push_back(std::make_unique<Processor>(std::move(settings), handler, schemas_,
                                                    factory_, producer_, &metrics_));
}

void Service::add_periodic(std::string name, std::chrono::milliseconds every,
                           std::function<void(TaskContext&)> task) {
  periodic_.push_back({std::move(name), every, std::move(task)});
}

int Service::run() {
  // Readiness is probed on its own thread and served from the last result, so a slow broker
  // or database never holds up /health/live or /metrics behind a blocked probe.
  db_up_.store(database_reachable(cfg_.db_url));
  kafka_up_.store(producer_.broker_reachable(std::chrono::seconds{2}));
  std::thread prober([&] {
    while (!stop_.load()) {
      for (int i = 0; i < 20 && !stop_.load(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds{100});
      }
      db_up_.store(database_reachable(cfg_.db_url));
      kafka_up_.store(producer_.broker_reachable(std::chrono::seconds{2}));
    }
  });
  AdminServer admin(
      cfg_.admin_host, cfg_.admin_port,
      [&] { return ReadinessReport{{"database", db_up_.load()}, {"kafka", kafka_up_.load()}}; },
      [this] { return metrics_.render(); });
  spdlog::info("admin server on http://{}:{}", cfg_.admin_host, admin.port());

  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
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
  std::unique_ptr<OutboxRelay> relay;
  if (relay_enabled_) {
    relay = std::make_unique<OutboxRelay>(
        RelaySettings{.db_url = cfg_.db_url,
                      .batch = cfg_.relay_batch,
                      .poll = std::chrono::milliseconds{cfg_.relay_poll_ms},
                      .retention = std::chrono::hours{cfg_.retention_hours}},
        producer_, &metrics_);
    threads.emplace_back(guarded("outbox relay", [&] { relay->run(stop_); }));
  }
  for (auto& p : processors_) {
    threads.emplace_back(guarded("processor", [&p, this] { p->run(stop_); }));
  }
  for (auto& p : periodic_) {
    threads.emplace_back([this, &p] {
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
          std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(
              p.every, std::chrono::milliseconds{50}));
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
  for (auto& t : threads) t.join();
  prober.join();
  spdlog::info("{} stopped", cfg_.service);
  return failed.load();
}

}  // namespace bazaar::events
