#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "events/result.hpp"
#include "record.hpp"

namespace RdKafka {
class KafkaConsumer;
class Metadata;
}  // namespace RdKafka

namespace bazaar::ctl {

/// Which records of which topics to read.
struct ReadPlan {
  enum class From { beginning, end, time, offset };
  std::vector<std::string> topics;
  From from = From::beginning;
  std::int64_t since_ms = 0;             ///< From::time: the first record at or after this time
  std::int32_t partition = -1;           ///< From::offset: this partition only ...
  std::int64_t offset = 0;               ///< ... from this offset
  std::optional<std::int64_t> until_ms;  ///< records from this time on are not read
  bool follow = false;                   ///< keep reading new records until stopped
};

/// Reads topics with its own consumer, assigned to partitions (it joins no group and commits
/// nothing, so it never disturbs a service). Every broker call has a deadline: a broker that
/// is down is an error, never a hang.
class TopicReader {
 public:
  TopicReader(std::string brokers, std::chrono::milliseconds timeout);
  ~TopicReader();
  TopicReader(const TopicReader&) = delete;
  TopicReader& operator=(const TopicReader&) = delete;

  /// Topic names on the broker (internal ones left out), sorted.
  events::Result<std::vector<std::string>> topics();
  /// Reads what `plan` selects, in order within each partition, handing each record to
  /// `sink` (false stops the read). Without `follow` it stops at the end each partition had
  /// when the read began. Returns how many records were read.
  events::Result<std::size_t> read(const ReadPlan& plan,
                                   const std::function<bool(const Record&)>& sink,
                                   const std::atomic<bool>* stop = nullptr);
  /// The one record at `topic`/`partition`@`offset`, if it is still there.
  events::Result<Record> fetch(const std::string& topic, std::int32_t partition,
                               std::int64_t offset);

 private:
  events::Result<std::vector<std::int32_t>> partitions_of(const std::string& topic);
  events::Result<std::unique_ptr<RdKafka::Metadata>> metadata();

  std::string brokers_;
  std::chrono::milliseconds timeout_;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
};

}  // namespace bazaar::ctl
