#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "events/clock.hpp"
#include "events/envelope.hpp"
#include "events/metrics.hpp"
#include "events/processor.hpp"
#include "events/producer.hpp"
#include "events/schema_registry.hpp"
#include "events/uuid.hpp"
#include "harness.hpp"
#include "probe_handler.hpp"

namespace bazaar::tests {

/// The platform parts a test needs, wired to the test broker and database.
struct Platform {
  events::SystemClock clock;
  events::UuidV7Generator ids{clock, events::system_random()};
  events::EnvelopeFactory factory{"itest", clock, ids, events::system_random()};
  events::SchemaRegistry schemas{BAZAAR_TEST_SCHEMAS_DIR};
  events::Metrics metrics{"itest"};
  std::string brokers = required_env("BAZAAR_KAFKA_BROKERS");
  std::string db_url = required_env("BAZAAR_TEST_DB");
  events::Producer producer{brokers};
};

/// A Processor applying Probe events on its own thread until destroyed.
class RunningProcessor {
 public:
  /// `dlq_max_bytes` and `dlq_producer` stand in for a smaller dead-letter limit.
  RunningProcessor(Platform& p, const std::string& group, const std::vector<std::string>& topics,
                   std::size_t dlq_max_bytes = 1'000'000, events::Producer* dlq_producer = nullptr,
                   bool quarantine = false,
                   std::chrono::milliseconds commit_interval = std::chrono::milliseconds{500})
      : handler_(group),
        processor_(events::ProcessorSettings{.brokers = p.brokers,
                                             .group = group,
                                             .topics = topics,
                                             .db_url = p.db_url,
                                             .backoff = {.initial = std::chrono::milliseconds{50},
                                                         .max = std::chrono::milliseconds{1000}},
                                             .commit_interval = commit_interval,
                                             .dlq_max_bytes = dlq_max_bytes,
                                             .quarantine = quarantine},
                   handler_, p.schemas, p.factory,
                   dlq_producer != nullptr ? *dlq_producer : p.producer, &p.metrics),
        thread_([this] { processor_.run(stop_); }) {}
  ~RunningProcessor() {
    stop_.store(true);
    thread_.join();
  }
  const ProbeHandler& handler() const { return handler_; }

 private:
  ProbeHandler handler_;
  events::Processor processor_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

/// The value of one labelled counter of a metric family.
inline double counter_value(prometheus::Family<prometheus::Counter>& family,
                            const std::map<std::string, std::string>& labels) {
  return family.Add(labels).Value();
}

}  // namespace bazaar::tests
