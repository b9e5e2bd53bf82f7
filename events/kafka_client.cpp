#include "events/kafka_client.hpp"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafkacpp.h>
#include <spdlog/spdlog.h>

#include <sstream>
#include <stdexcept>

namespace bazaar::events {
namespace {

class LogBridge final : public RdKafka::EventCb {
 public:
  void event_cb(RdKafka::Event& event) override {
    switch (event.type()) {
      case RdKafka::Event::EVENT_ERROR:
        // Transport errors are retried by librdkafka itself; fatal ones are handled by callers.
        spdlog::warn("kafka: {} ({})", event.str(), RdKafka::err2str(event.err()));
        break;
      case RdKafka::Event::EVENT_LOG:
        // CONFWARN only repeats that gapless delivery is marked experimental.
        if (event.severity() <= RdKafka::Event::EVENT_SEVERITY_WARNING &&
            event.fac() != "CONFWARN") {
          spdlog::warn("kafka {}: {}", event.fac(), event.str());
        } else {
          spdlog::debug("kafka {}: {}", event.fac(), event.str());
        }
        break;
      default:
        break;
    }
  }
};

LogBridge g_log_bridge;

struct AdminHandle {
  rd_kafka_t* rk = nullptr;
  rd_kafka_queue_t* queue = nullptr;
  ~AdminHandle() {
    if (queue != nullptr) rd_kafka_queue_destroy(queue);
    if (rk != nullptr) rd_kafka_destroy(rk);
  }
};

}  // namespace

std::unique_ptr<RdKafka::Conf> make_kafka_conf(const KafkaProperties& props) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string err;
  if (conf->set("event_cb", &g_log_bridge, err) != RdKafka::Conf::CONF_OK) {
    throw std::invalid_argument("kafka event_cb: " + err);
  }
  for (const auto& [name, value] : props) {
    if (conf->set(name, value, err) != RdKafka::Conf::CONF_OK) {
      throw std::invalid_argument("kafka property " + name + ": " + err);
    }
  }
  return conf;
}

Result<void> ensure_topics(const std::string& brokers, const std::vector<TopicSpec>& topics,
                           std::chrono::milliseconds timeout) {
  if (topics.empty()) return {};
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers.c_str(), err, sizeof err) !=
      RD_KAFKA_CONF_OK) {
    rd_kafka_conf_destroy(conf);
    return Error{"kafka_config", err};
  }
  rd_kafka_conf_set(conf, "log_level", "3", err, sizeof err);
  AdminHandle h;
  h.rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (h.rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    return Error{"kafka_client", err};
  }
  h.queue = rd_kafka_queue_new(h.rk);

  std::vector<rd_kafka_NewTopic_t*> specs;
  for (const auto& t : topics) {
    specs.push_back(
        rd_kafka_NewTopic_new(t.name.c_str(), t.partitions, t.replication_factor, err, sizeof err));
    if (specs.back() == nullptr) {
      for (auto* s : specs) {
        if (s != nullptr) rd_kafka_NewTopic_destroy(s);
      }
      return Error{"invalid_topic", t.name + ": " + err};
    }
    for (const auto& [key, value] : t.configs) {
      rd_kafka_NewTopic_set_config(specs.back(), key.c_str(), value.c_str());
    }
  }
  rd_kafka_AdminOptions_t* options =
      rd_kafka_AdminOptions_new(h.rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_AdminOptions_set_operation_timeout(options, static_cast<int>(timeout.count()), err,
                                              sizeof err);
  rd_kafka_AdminOptions_set_request_timeout(options, static_cast<int>(timeout.count()), err,
                                            sizeof err);
  rd_kafka_CreateTopics(h.rk, specs.data(), specs.size(), options, h.queue);
  rd_kafka_AdminOptions_destroy(options);
  rd_kafka_NewTopic_destroy_array(specs.data(), specs.size());

  rd_kafka_event_t* event = rd_kafka_queue_poll(h.queue, static_cast<int>(timeout.count()) + 5000);
  if (event == nullptr) return Error{"timeout", "no answer to CreateTopics from " + brokers};
  Result<void> outcome;
  if (rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    outcome = Error{"create_topics", rd_kafka_event_error_string(event)};
  } else {
    size_t n = 0;
    const rd_kafka_topic_result_t** results =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event), &n);
    std::string failures;
    for (size_t i = 0; i < n; ++i) {
      const auto code = rd_kafka_topic_result_error(results[i]);
      if (code == RD_KAFKA_RESP_ERR_NO_ERROR || code == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
        continue;
      }
      const char* why = rd_kafka_topic_result_error_string(results[i]);
      failures += std::string(rd_kafka_topic_result_name(results[i])) + ": " +
                  (why != nullptr ? why : rd_kafka_err2str(code)) + "; ";
    }
    if (!failures.empty()) outcome = Error{"create_topics", failures};
  }
  rd_kafka_event_destroy(event);
  return outcome;
}

Result<std::vector<TopicSpec>> parse_topic_list(const std::string& text, int default_partitions,
                                                int replication_factor) {
  std::vector<TopicSpec> out;
  std::istringstream lines(text);
  std::string line;
  int number = 0;
  while (std::getline(lines, line)) {
    ++number;
    if (const auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    std::istringstream fields(line);
    TopicSpec spec{
        .name = {}, .partitions = default_partitions, .replication_factor = replication_factor};
    if (!(fields >> spec.name)) continue;
    std::string partitions;
    if (fields >> partitions && partitions.find('=') == std::string::npos) {
      try {
        spec.partitions = std::stoi(partitions);
      } catch (const std::exception&) {
        return Error{"invalid_topic_list", "line " + std::to_string(number) +
                                               ": partitions is not a number: " + partitions};
      }
      if (spec.partitions < 1) {
        return Error{"invalid_topic_list",
                     "line " + std::to_string(number) + ": partitions must be at least 1"};
      }
      partitions.clear();
    }
    // What follows the partition count are topic configs, key=value.
    for (std::string config = partitions; !config.empty() || fields >> config; config.clear()) {
      const auto eq = config.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == config.size()) {
        return Error{"invalid_topic_list",
                     "line " + std::to_string(number) + ": expected config=value, got " + config};
      }
      spec.configs[config.substr(0, eq)] = config.substr(eq + 1);
    }
    out.push_back(std::move(spec));
  }
  return out;
}

}  // namespace bazaar::events
