#include "events/metrics.hpp"

#include <prometheus/text_serializer.h>

namespace bazaar::events {
Metrics::Metrics(const std::string& service)
    : registry_(std::make_shared<prometheus::Registry>()),
      messages(prometheus::BuildCounter()
                   .Name("bazaar_consumer_messages_total")
                   .Help("Consumed records by topic and outcome")
                   .Labels({{"service", service}})
                   .Register(*registry_)),
      handle_seconds(prometheus::BuildHistogram()
                         .Name("bazaar_consumer_handle_seconds")
                         .Help("Time from poll to offset commit of one record")
                         .Labels({{"service", service}})
                         .Register(*registry_)),
      consumer_lag(prometheus::BuildGauge()
                       .Name("bazaar_consumer_lag")
                       .Help("Records behind the end of the partition")
                       .Labels({{"service", service}})
                       .Register(*registry_)),
      dead_letters(prometheus::BuildCounter()
                       .Name("bazaar_dead_letters_total")
                       .Help("Records sent to the dead-letter topic, by original topic")
                       .Labels({{"service", service}})
                       .Register(*registry_)),
      outbox_published(prometheus::BuildCounter()
                           .Name("bazaar_outbox_published_total")
                           .Help("Outbox rows published to Kafka")
                           .Labels({{"service", service}})
                           .Register(*registry_)
                           .Add({})),
      outbox_backlog(prometheus::BuildGauge()
                         .Name("bazaar_outbox_backlog")
                         .Help("Outbox rows not yet published")
                         .Labels({{"service", service}})
                         .Register(*registry_)
                         .Add({})) {}

std::string Metrics::render() const {
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace bazaar::events
