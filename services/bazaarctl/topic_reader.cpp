#include "topic_reader.hpp"

#include <librdkafka/rdkafkacpp.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <set>

#include "events/kafka_client.hpp"

namespace bazaar::ctl {
namespace {

using events::Error;

// Frees a list of partitions librdkafka handed out or we made.
struct PartitionList {
  std::vector<RdKafka::TopicPartition*> items;
  ~PartitionList() { RdKafka::TopicPartition::destroy(items); }
};

std::string group_id() {
  // Only a name librdkafka insists on: the reader assigns partitions and never joins it.
  return "bazaarctl-" + std::to_string(::getpid()) + "-" +
         std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
}

Record to_record(RdKafka::Message& m) {
  events::Headers headers;
  if (const RdKafka::Headers* h = m.headers()) {
    for (const auto& header : h->get_all()) {
      const auto* value = static_cast<const char*>(header.value());
      headers.emplace_back(
          header.key(), value != nullptr ? std::string(value, header.value_size()) : std::string{});
    }
  }
  const std::string* key = m.key();
  const RdKafka::MessageTimestamp ts = m.timestamp();
  return make_record(m.topic_name(), m.partition(), m.offset(), ts.timestamp,
                     key != nullptr ? *key : std::string{},
                     std::string(static_cast<const char*>(m.payload()), m.len()),
                     std::move(headers));
}

}  // namespace

TopicReader::TopicReader(std::string brokers, std::chrono::milliseconds timeout)
    : brokers_(std::move(brokers)), timeout_(timeout) {
  auto conf = events::make_kafka_conf({{"bootstrap.servers", brokers_},
                                       {"group.id", group_id()},
                                       {"enable.auto.commit", "false"},
                                       {"enable.auto.offset.store", "false"},
                                       {"enable.partition.eof", "true"},
                                       {"socket.timeout.ms", std::to_string(timeout_.count())},
                                       {"log_level", "0"}});
  std::string err;
  consumer_.reset(RdKafka::KafkaConsumer::create(conf.get(), err));
  if (!consumer_) throw std::runtime_error("kafka consumer: " + err);
}

TopicReader::~TopicReader() {
  if (consumer_) consumer_->close();
}

events::Result<std::unique_ptr<RdKafka::Metadata>> TopicReader::metadata() {
  RdKafka::Metadata* raw = nullptr;
  const auto code = consumer_->metadata(true, nullptr, &raw, static_cast<int>(timeout_.count()));
  std::unique_ptr<RdKafka::Metadata> owned(raw);
  if (code != RdKafka::ERR_NO_ERROR) {
    return Error{"broker_unreachable",
                 "the broker at " + brokers_ + " did not answer: " + RdKafka::err2str(code)};
  }
  return owned;
}

events::Result<std::vector<std::string>> TopicReader::topics() {
  auto metadata = this->metadata();
  if (!metadata) return metadata.error();
  std::vector<std::string> names;
  for (const auto* t : *metadata.value()->topics()) {
    if (!t->topic().starts_with("__")) names.push_back(t->topic());
  }
  std::sort(names.begin(), names.end());
  return names;
}

events::Result<std::vector<std::int32_t>> TopicReader::partitions_of(const std::string& topic) {
  auto metadata = this->metadata();
  if (!metadata) return metadata.error();
  for (const auto* t : *metadata.value()->topics()) {
    if (t->topic() != topic) continue;
    std::vector<std::int32_t> out;
    for (const auto* p : *t->partitions()) out.push_back(p->id());
    std::sort(out.begin(), out.end());
    return out;
  }
  return Error{"unknown_topic", "no topic " + topic + " on " + brokers_};
}

events::Result<std::size_t> TopicReader::read(const ReadPlan& plan,
                                              const std::function<bool(const Record&)>& sink,
                                              const std::atomic<bool>* stop) {
  using Key = std::pair<std::string, std::int32_t>;
  std::map<Key, std::int64_t> start;  // where each partition begins
  std::map<Key, std::int64_t> end;    // its end when the read began
  const int wait = static_cast<int>(timeout_.count());
  for (const auto& topic : plan.topics) {
    auto partitions = partitions_of(topic);
    if (!partitions) return partitions.error();
    for (const std::int32_t p : partitions.value()) {
      if (plan.from == ReadPlan::From::offset && p != plan.partition) continue;
      std::int64_t low = 0;
      std::int64_t high = 0;
      if (const auto code = consumer_->query_watermark_offsets(topic, p, &low, &high, wait);
          code != RdKafka::ERR_NO_ERROR) {
        return Error{"broker_unreachable", "offsets of " + topic + "/" + std::to_string(p) + ": " +
                                               RdKafka::err2str(code)};
      }
      end[{topic, p}] = high;
      switch (plan.from) {
        case ReadPlan::From::beginning:
          start[{topic, p}] = low;
          break;
        case ReadPlan::From::end:
          start[{topic, p}] = high;
          break;
        case ReadPlan::From::offset:
          if (plan.offset < low || plan.offset > high) {
            return Error{"offset_out_of_range",
                         topic + "/" + std::to_string(p) + " holds offsets " + std::to_string(low) +
                             " to " + std::to_string(high - 1) + "; " +
                             std::to_string(plan.offset) + " is not among them"};
          }
          start[{topic, p}] = plan.offset;
          break;
        case ReadPlan::From::time:
          start[{topic, p}] = plan.since_ms;
          break;  // resolved below
      }
    }
    if (plan.from == ReadPlan::From::offset && !end.contains({topic, plan.partition})) {
      return Error{"unknown_partition",
                   topic + " has no partition " + std::to_string(plan.partition)};
    }
  }
  if (plan.from == ReadPlan::From::time && !start.empty()) {
    PartitionList query;
    for (const auto& [key, since] : start) {
      query.items.push_back(RdKafka::TopicPartition::create(key.first, key.second, since));
    }
    if (const auto code = consumer_->offsetsForTimes(query.items, wait);
        code != RdKafka::ERR_NO_ERROR) {
      return Error{"broker_unreachable", "offsets for the time: " + RdKafka::err2str(code)};
    }
    for (const auto* tp : query.items) {
      // No record at or after the time: the partition starts at its end.
      const std::int64_t at = tp->offset() < 0 ? end[{tp->topic(), tp->partition()}] : tp->offset();
      start[{tp->topic(), tp->partition()}] = at;
    }
  }

  PartitionList assignment;
  std::set<Key> open;
  for (const auto& [key, from] : start) {
    assignment.items.push_back(RdKafka::TopicPartition::create(key.first, key.second, from));
    if (plan.follow || from < end[key]) open.insert(key);
  }
  if (open.empty()) return std::size_t{0};
  if (const auto code = consumer_->assign(assignment.items); code != RdKafka::ERR_NO_ERROR) {
    return Error{"broker_unreachable", "assigning partitions: " + RdKafka::err2str(code)};
  }
  std::size_t count = 0;
  auto quiet_since = std::chrono::steady_clock::now();
  while (!open.empty() && (stop == nullptr || !stop->load())) {
    const std::unique_ptr<RdKafka::Message> m(consumer_->consume(100));
    if (m->err() == RdKafka::ERR__TIMED_OUT) {
      // Without new records the broker may be gone: a read that should end must not hang.
      if (!plan.follow && std::chrono::steady_clock::now() - quiet_since > timeout_) {
        consumer_->unassign();
        return Error{"broker_unreachable", "no records arrived from " + brokers_ + " in time"};
      }
      continue;
    }
    const Key key{m->topic_name(), m->partition()};
    // A partition that reached its end stays assigned: what it gets later is not in the read.
    if (!plan.follow && !open.contains(key)) continue;
    quiet_since = std::chrono::steady_clock::now();
    if (m->err() == RdKafka::ERR__PARTITION_EOF) {
      if (!plan.follow) open.erase(key);
      continue;
    }
    if (m->err() != RdKafka::ERR_NO_ERROR) {
      consumer_->unassign();
      return Error{"read_failed", m->errstr()};
    }
    const Record r = to_record(*m);
    if (plan.until_ms && r.timestamp_ms >= *plan.until_ms) {
      if (!plan.follow) open.erase(key);
      continue;
    }
    ++count;
    if (!sink(r)) break;
    if (!plan.follow && m->offset() + 1 >= end[key]) open.erase(key);
  }
  consumer_->unassign();
  return count;
}

events::Result<Record> TopicReader::fetch(const std::string& topic, std::int32_t partition,
                                          std::int64_t offset) {
  ReadPlan plan;
  plan.topics = {topic};
  plan.from = ReadPlan::From::offset;
  plan.partition = partition;
  plan.offset = offset;
  std::optional<Record> found;
  auto read = this->read(plan, [&](const Record& r) {
    if (r.offset == offset) found = r;
    return false;
  });
  if (!read) return read.error();
  if (!found) {
    return Error{"record_gone", topic + "/" + std::to_string(partition) + "@" +
                                    std::to_string(offset) + " is no longer on the topic"};
  }
  return *found;
}

}  // namespace bazaar::ctl
