#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <memory>
#include <string>

namespace bazaar::events {

/// The Prometheus registry of one service and the metric families every service shares.
/// Labels are bounded (topic, outcome, partition), never an order or user id.
class Metrics {
  // Declared first: the families below are registered in it during construction.
  std::shared_ptr<prometheus::Registry> registry_;

 public:
  explicit Metrics(const std::string& service);
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  prometheus::Registry& registry() { return *registry_; }
  /// All metrics in the Prometheus text exposition format.
  std::string render() const;

  /// Consumed records by topic and outcome (processed, duplicate, ignored, dead_lettered,
  /// retried).
  prometheus::Family<prometheus::Counter>& messages;
  /// Seconds from poll to offset commit of one handled record, by topic.
  prometheus::Family<prometheus::Histogram>& handle_seconds;
  /// Records behind the log end, by topic and partition.
  prometheus::Family<prometheus::Gauge>& consumer_lag;
  /// Records sent to a dead-letter topic, by original topic.
  prometheus::Family<prometheus::Counter>& dead_letters;
  /// Outbox rows published, and rows still waiting.
  prometheus::Counter& outbox_published;
  prometheus::Gauge& outbox_backlog;
};

}  // namespace bazaar::events
