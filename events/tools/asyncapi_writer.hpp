#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <vector>

namespace bazaar::tools {

/// A topic of topics.tsv.
struct AsyncTopic {
  std::string name;
  std::string comment;
  int partitions = 6;
};

/// An event type: its schema, the topic it travels on, and a sample payload.
struct AsyncMessage {
  std::string type;  ///< bazaar.<domain>.<Name>.v<N>
  std::string topic;
  boost::json::object schema;
  std::optional<boost::json::value> example;
};

/// The AsyncAPI 3.0 document of the topics: servers, a channel per topic (dead-letter topics
/// as one parameterised channel), a receive operation each, every message with its CloudEvents
/// headers, Kafka key and partition bindings, and its sample as an example. YAML.
std::string asyncapi_yaml(const std::vector<AsyncTopic>& topics,
                          const std::vector<AsyncMessage>& messages);

}  // namespace bazaar::tools
