#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "events/result.hpp"

namespace RdKafka {
class Conf;
}

namespace bazaar::events {

/// librdkafka properties, passed through unchanged by name.
using KafkaProperties = std::map<std::string, std::string>;

/// A librdkafka configuration with `props` set and librdkafka's own logging routed into ours
/// (it writes to stderr otherwise). Throws std::invalid_argument naming a rejected property.
std::unique_ptr<RdKafka::Conf> make_kafka_conf(const KafkaProperties& props);

/// A topic to create when missing.
struct TopicSpec {
  std::string name;
  int partitions = 6;
  int replication_factor = 1;
  std::map<std::string, std::string> configs{};  ///< topic configs, e.g. retention.ms
};

/// Creates each topic that does not exist yet (librdkafka's C Admin API); existing ones are
/// left as they are.
Result<void> ensure_topics(const std::string& brokers, const std::vector<TopicSpec>& topics,
                           std::chrono::milliseconds timeout = std::chrono::seconds{30});

/// Reads `name [partitions] [config=value ...]` lines (`#` comments allowed) into topic specs.
Result<std::vector<TopicSpec>> parse_topic_list(const std::string& text, int default_partitions,
                                                int replication_factor);

}  // namespace bazaar::events
