#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "events/kafka_client.hpp"
#include "events/result.hpp"

namespace bazaar::ctl {

/// One member of a consumer group and the partitions assigned to it.
struct GroupMember {
  std::string client_id;
  std::string host;
  std::vector<std::pair<std::string, int>> assignment;  ///< (topic, partition), sorted
};

/// A consumer group as its coordinator describes it.
struct GroupInfo {
  std::string group;
  std::string state;  ///< Stable, Empty, PreparingRebalance, CompletingRebalance, Dead, Unknown
  std::vector<GroupMember> members;
};

/// How far a group is behind on one partition.
struct PartitionLag {
  std::string topic;
  int partition = 0;
  std::int64_t committed = -1;  ///< -1 when the group has committed nothing there
  std::int64_t end = 0;         ///< the high watermark
  std::int64_t lag = 0;         ///< end minus where the group would resume
};

/// A group's description and its lag on every partition of the topics it consumes.
struct GroupLag {
  GroupInfo info;
  std::vector<PartitionLag> partitions;  ///< sorted by topic, then partition
  /// The sum of every partition's lag.
  std::int64_t total() const;
};

/// Consumer-group administration over librdkafka's C Admin API. Every call finishes within the
/// timeout given at construction, also when no broker answers, and reports failures as
/// values: codes "timeout" (no broker answered in time), "unknown_group", "unknown_topic",
/// "group_active", "invalid_argument", "kafka_client" (the client could not be created) and
/// "kafka" (anything else the broker or librdkafka reported).
class KafkaAdmin {
 public:
  /// A client of `brokers`; `overrides` are librdkafka properties (e.g. security.protocol).
  KafkaAdmin(std::string brokers, std::chrono::milliseconds timeout,
             events::KafkaProperties overrides = {});
  ~KafkaAdmin();
  KafkaAdmin(const KafkaAdmin&) = delete;
  KafkaAdmin& operator=(const KafkaAdmin&) = delete;

  /// The cluster's topic names, sorted; internal ones (`__consumer_offsets`, ...) left out.
  events::Result<std::vector<std::string>> topics();
  /// Every consumer group, sorted by name, with its state, members and their assignment.
  events::Result<std::vector<GroupInfo>> groups();
  /// Committed offsets against end offsets on every partition of every topic the group has
  /// committed offsets on or is assigned; a partition without a commit counts from its start.
  events::Result<GroupLag> lag(const std::string& group);
  /// Resets `group` to the beginning of every partition of `topics` (AlterConsumerGroupOffsets
  /// to each partition's low watermark) and returns how many partitions it reset. Refuses with
  /// "group_active" when the group has members: its service must be stopped first;
  /// "unknown_group" when the group does not exist and has no committed offsets.
  events::Result<std::size_t> reset_to_beginning(const std::string& group,
                                                 const std::vector<std::string>& topics);

 private:
  struct Client;

  std::string brokers_;
  std::chrono::milliseconds timeout_;
  std::unique_ptr<Client> client_;  ///< null when librdkafka refused the configuration
  events::Error client_error_;
};

}  // namespace bazaar::ctl
