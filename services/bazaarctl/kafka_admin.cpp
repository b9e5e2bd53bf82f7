#include "kafka_admin.hpp"

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <set>
#include <string_view>
#include <tuple>

namespace bazaar::ctl {
namespace {

using events::Error;
using events::Result;
using Clock = std::chrono::steady_clock;
using TopicPartition = std::pair<std::string, int>;

// How long past a request's own timeout to wait for librdkafka's timed-out result, whose
// message names what it was waiting for (the controller, a coordinator).
constexpr int kResultGraceMs = 100;
// librdkafka refuses an Admin request timeout above one hour.
constexpr int kMaxRequestMs = 3'600'000;

template <auto Destroy>
struct Deleter {
  template <typename T>
  void operator()(T* p) const {
    Destroy(p);
  }
};
using EventPtr = std::unique_ptr<rd_kafka_event_t, Deleter<rd_kafka_event_destroy>>;
using QueuePtr = std::unique_ptr<rd_kafka_queue_t, Deleter<rd_kafka_queue_destroy>>;
using OptionsPtr = std::unique_ptr<rd_kafka_AdminOptions_t, Deleter<rd_kafka_AdminOptions_destroy>>;
using PartitionsPtr = std::unique_ptr<rd_kafka_topic_partition_list_t,
                                      Deleter<rd_kafka_topic_partition_list_destroy>>;
using MetadataPtr = std::unique_ptr<const rd_kafka_metadata_t, Deleter<rd_kafka_metadata_destroy>>;
using ListOffsetsPtr = std::unique_ptr<rd_kafka_ListConsumerGroupOffsets_t,
                                       Deleter<rd_kafka_ListConsumerGroupOffsets_destroy>>;
using AlterOffsetsPtr = std::unique_ptr<rd_kafka_AlterConsumerGroupOffsets_t,
                                        Deleter<rd_kafka_AlterConsumerGroupOffsets_destroy>>;

/// The point in time by which one public call must have answered; every request it makes
/// gets only what is left, so a call of several requests still ends on time.
class Deadline {
 public:
  explicit Deadline(std::chrono::milliseconds budget) : at_(Clock::now() + budget) {}
  int remaining_ms() const {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(at_ - Clock::now()).count();
    return static_cast<int>(std::clamp<std::int64_t>(left, 0, kMaxRequestMs));
  }

 private:
  Clock::time_point at_;
};

std::string text(const char* s) {
  return s != nullptr ? s : "";
}

std::string where(const rd_kafka_topic_partition_t& p) {
  return text(p.topic) + "/" + std::to_string(p.partition);
}

std::string code_of(rd_kafka_resp_err_t err) {
  switch (err) {
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE:
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
      return "timeout";
    case RD_KAFKA_RESP_ERR_GROUP_ID_NOT_FOUND:
      return "unknown_group";
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
      return "unknown_topic";
    default:
      return "kafka";
  }
}

// Offset commits without a generation are refused with these while the group has members.
bool member_error(rd_kafka_resp_err_t err) {
  return err == RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID ||
         err == RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION ||
         err == RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS;
}

// Every failure reaches the caller as an Error, so librdkafka's own lines (a refused
// connection, retried every second while the broker is down) only explain it, on request.
void log_to_spdlog(const rd_kafka_t* /*rk*/, int /*level*/, const char* fac, const char* buf) {
  spdlog::debug("kafka {}: {}", text(fac), text(buf));
}

void error_to_spdlog(rd_kafka_t* /*rk*/, int err, const char* reason, void* /*opaque*/) {
  spdlog::debug("kafka: {} ({})", text(reason),
                rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err)));
}

}  // namespace

struct KafkaAdmin::Client {
  rd_kafka_t* rk_;
  std::string brokers_;

  Client(rd_kafka_t* handle, std::string broker_list)
      : rk_(handle), brokers_(std::move(broker_list)) {}
  ~Client() { rd_kafka_destroy(rk_); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  Error fail(rd_kafka_resp_err_t err, std::string_view what, const char* reason = nullptr) const {
    Error e{code_of(err), std::string(what) + ": " +
                              (reason != nullptr ? std::string(reason) : rd_kafka_err2str(err))};
    if (e.code == "timeout") e.message += " (brokers " + brokers_ + ")";
    return e;
  }

  Error timed_out(std::string_view what) const {
    return Error{"timeout", std::string(what) + ": no answer in time (brokers " + brokers_ + ")"};
  }

  /// Serves librdkafka's callbacks (errors) that a client nobody polls would pile up.
  void serve_callbacks() { rd_kafka_poll(rk_, 0); }

  /// Issues one Admin API request and waits for its result on a queue of its own, so that a
  /// late answer to an earlier, timed-out request is never taken for this one's.
  template <typename Issue>
  Result<EventPtr> admin(rd_kafka_admin_op_t op, rd_kafka_event_type_t expected,
                         std::string_view what, const Deadline& deadline, Issue issue) {
    const int budget = deadline.remaining_ms();
    if (budget <= 0) return timed_out(what);
    QueuePtr queue(rd_kafka_queue_new(rk_));
    OptionsPtr options(rd_kafka_AdminOptions_new(rk_, op));
    char err[512];
    if (rd_kafka_AdminOptions_set_request_timeout(options.get(), budget, err, sizeof err) !=
        RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Error{"invalid_argument", std::string(what) + ": " + err};
    }
    issue(options.get(), queue.get());
    EventPtr event(rd_kafka_queue_poll(queue.get(), budget + kResultGraceMs));
    if (event == nullptr) return timed_out(what);
    if (rd_kafka_event_type(event.get()) != expected) {
      return Error{"kafka",
                   std::string(what) + ": unexpected " + text(rd_kafka_event_name(event.get()))};
    }
    if (const auto code = rd_kafka_event_error(event.get()); code != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return fail(code, what, rd_kafka_event_error_string(event.get()));
    }
    return Result<EventPtr>(std::move(event));
  }

  /// Every topic's partition ids.
  Result<std::map<std::string, std::vector<int>>> layout(const Deadline& deadline) {
    const int budget = deadline.remaining_ms();
    if (budget <= 0) return timed_out("metadata");
    const rd_kafka_metadata_t* raw = nullptr;
    if (const auto err = rd_kafka_metadata(rk_, 1, nullptr, &raw, budget);
        err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return fail(err, "metadata");
    }
    MetadataPtr metadata(raw);
    std::map<std::string, std::vector<int>> out;
    for (int t = 0; t < metadata->topic_cnt; ++t) {
      const rd_kafka_metadata_topic_t& topic = metadata->topics[t];
      if (topic.err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) continue;
      auto& ids = out[topic.topic];
      for (int p = 0; p < topic.partition_cnt; ++p) ids.push_back(topic.partitions[p].id);
      std::sort(ids.begin(), ids.end());
    }
    return out;
  }

  Result<std::vector<std::string>> group_ids(const Deadline& deadline) {
    auto event = admin(RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS,
                       RD_KAFKA_EVENT_LISTCONSUMERGROUPS_RESULT, "list groups", deadline,
                       [this](rd_kafka_AdminOptions_t* options, rd_kafka_queue_t* queue) {
                         rd_kafka_ListConsumerGroups(rk_, options, queue);
                       });
    if (!event) return event.error();
    const auto* result = rd_kafka_event_ListConsumerGroups_result(event.value().get());
    std::size_t error_count = 0;
    const rd_kafka_error_t** errors =
        rd_kafka_ListConsumerGroups_result_errors(result, &error_count);
    // A broker that did not answer leaves its groups out: a partial list would read as whole.
    if (error_count > 0) {
      return fail(rd_kafka_error_code(errors[0]), "list groups", rd_kafka_error_string(errors[0]));
    }
    std::size_t count = 0;
    const rd_kafka_ConsumerGroupListing_t** listings =
        rd_kafka_ListConsumerGroups_result_valid(result, &count);
    std::vector<std::string> ids;
    for (std::size_t i = 0; i < count; ++i) {
      ids.push_back(text(rd_kafka_ConsumerGroupListing_group_id(listings[i])));
    }
    std::sort(ids.begin(), ids.end());
    return ids;
  }

  Result<std::vector<GroupInfo>> describe(const std::vector<std::string>& ids,
                                          const Deadline& deadline) {
    std::vector<GroupInfo> out;
    if (ids.empty()) return out;
    std::vector<const char*> names;
    for (const auto& id : ids) names.push_back(id.c_str());
    auto event =
        admin(RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS,
              RD_KAFKA_EVENT_DESCRIBECONSUMERGROUPS_RESULT, "describe groups", deadline,
              [&](rd_kafka_AdminOptions_t* options, rd_kafka_queue_t* queue) {
                rd_kafka_DescribeConsumerGroups(rk_, names.data(), names.size(), options, queue);
              });
    if (!event) return event.error();
    std::size_t count = 0;
    const rd_kafka_ConsumerGroupDescription_t** groups =
        rd_kafka_DescribeConsumerGroups_result_groups(
            rd_kafka_event_DescribeConsumerGroups_result(event.value().get()), &count);
    for (std::size_t g = 0; g < count; ++g) {
      const rd_kafka_ConsumerGroupDescription_t* group = groups[g];
      GroupInfo info{.group = text(rd_kafka_ConsumerGroupDescription_group_id(group)),
                     .state = {},
                     .members = {}};
      if (const rd_kafka_error_t* e = rd_kafka_ConsumerGroupDescription_error(group)) {
        // A group deleted between listing and describing is simply gone.
        if (rd_kafka_error_code(e) != RD_KAFKA_RESP_ERR_GROUP_ID_NOT_FOUND) {
          return fail(rd_kafka_error_code(e), "describe group " + info.group,
                      rd_kafka_error_string(e));
        }
        info.state = rd_kafka_consumer_group_state_name(RD_KAFKA_CONSUMER_GROUP_STATE_DEAD);
        out.push_back(std::move(info));
        continue;
      }
      info.state =
          rd_kafka_consumer_group_state_name(rd_kafka_ConsumerGroupDescription_state(group));
      const std::size_t member_count = rd_kafka_ConsumerGroupDescription_member_count(group);
      for (std::size_t m = 0; m < member_count; ++m) {
        const rd_kafka_MemberDescription_t* member =
            rd_kafka_ConsumerGroupDescription_member(group, m);
        GroupMember described{.client_id = text(rd_kafka_MemberDescription_client_id(member)),
                              .host = text(rd_kafka_MemberDescription_host(member)),
                              .assignment = {}};
        const rd_kafka_MemberAssignment_t* assignment =
            rd_kafka_MemberDescription_assignment(member);
        const rd_kafka_topic_partition_list_t* partitions =
            assignment != nullptr ? rd_kafka_MemberAssignment_partitions(assignment) : nullptr;
        for (int p = 0; partitions != nullptr && p < partitions->cnt; ++p) {
          described.assignment.emplace_back(text(partitions->elems[p].topic),
                                            partitions->elems[p].partition);
        }
        std::sort(described.assignment.begin(), described.assignment.end());
        info.members.push_back(std::move(described));
      }
      std::sort(info.members.begin(), info.members.end(), [](const auto& a, const auto& b) {
        return std::tie(a.client_id, a.host) < std::tie(b.client_id, b.host);
      });
      out.push_back(std::move(info));
    }
    std::sort(out.begin(), out.end(),
              [](const auto& a, const auto& b) { return a.group < b.group; });
    return out;
  }

  Result<GroupInfo> describe_one(const std::string& group, const Deadline& deadline) {
    auto described = describe({group}, deadline);
    if (!described) return described.error();
    if (described.value().size() != 1) {
      return Error{"kafka", "describe group " + group + ": " +
                                std::to_string(described.value().size()) + " answers"};
    }
    return std::move(described.value().front());
  }

  /// Every offset `group` has committed.
  Result<std::map<TopicPartition, std::int64_t>> committed(const std::string& group,
                                                           const Deadline& deadline) {
    // No partition list asks for every partition the group has committed on.
    ListOffsetsPtr request(rd_kafka_ListConsumerGroupOffsets_new(group.c_str(), nullptr));
    rd_kafka_ListConsumerGroupOffsets_t* requests[] = {request.get()};
    const std::string what = "committed offsets of group " + group;
    auto event = admin(RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS,
                       RD_KAFKA_EVENT_LISTCONSUMERGROUPOFFSETS_RESULT, what, deadline,
                       [&](rd_kafka_AdminOptions_t* options, rd_kafka_queue_t* queue) {
                         rd_kafka_ListConsumerGroupOffsets(rk_, requests, 1, options, queue);
                       });
    if (!event) return event.error();
    std::size_t count = 0;
    const rd_kafka_group_result_t** groups = rd_kafka_ListConsumerGroupOffsets_result_groups(
        rd_kafka_event_ListConsumerGroupOffsets_result(event.value().get()), &count);
    if (count != 1) return Error{"kafka", what + ": " + std::to_string(count) + " answers"};
    if (const rd_kafka_error_t* e = rd_kafka_group_result_error(groups[0])) {
      return fail(rd_kafka_error_code(e), what, rd_kafka_error_string(e));
    }
    std::map<TopicPartition, std::int64_t> out;
    const rd_kafka_topic_partition_list_t* partitions = rd_kafka_group_result_partitions(groups[0]);
    for (int p = 0; partitions != nullptr && p < partitions->cnt; ++p) {
      const rd_kafka_topic_partition_t& partition = partitions->elems[p];
      if (partition.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return fail(partition.err, what + " on " + where(partition));
      }
      if (partition.offset >= 0)
        out[{text(partition.topic), partition.partition}] = partition.offset;
    }
    return out;
  }

  /// Each partition's offset at `position`: RD_KAFKA_OFFSET_BEGINNING (the low watermark) or
  /// RD_KAFKA_OFFSET_END (the high watermark).
  Result<std::map<TopicPartition, std::int64_t>> offsets(const std::vector<TopicPartition>& wanted,
                                                         std::int64_t position,
                                                         const Deadline& deadline) {
    std::map<TopicPartition, std::int64_t> out;
    if (wanted.empty()) return out;
    const char* what = position == RD_KAFKA_OFFSET_BEGINNING ? "start offsets" : "end offsets";
    const int budget = deadline.remaining_ms();
    if (budget <= 0) return timed_out(what);
    // Not rd_kafka_query_watermark_offsets: it asks for one partition at a time and, in
    // librdkafka 2.0.2, stops honouring its timeout once its requests are sent (fixed in 2.3.0,
    // #4460). offsets_for_times asks each leader once for all its partitions and honours the
    // timeout; the timestamps -2 and -1 mean earliest and latest in a ListOffsets request.
    PartitionsPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(wanted.size())));
    for (const auto& [topic, partition] : wanted) {
      rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), partition)->offset = position;
    }
    if (const auto err = rd_kafka_offsets_for_times(rk_, list.get(), budget);
        err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return fail(err, what);
    }
    for (int p = 0; p < list->cnt; ++p) {
      const rd_kafka_topic_partition_t& partition = list->elems[p];
      if (partition.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return fail(partition.err, std::string(what) + " of " + where(partition));
      }
      out[{text(partition.topic), partition.partition}] = partition.offset;
    }
    return out;
  }

  /// Commits `offsets` for `group` and returns how many partitions took them.
  Result<std::size_t> alter(const std::string& group,
                            const std::map<TopicPartition, std::int64_t>& offsets,
                            const Deadline& deadline) {
    PartitionsPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size())));
    for (const auto& [at, offset] : offsets) {
      rd_kafka_topic_partition_list_add(list.get(), at.first.c_str(), at.second)->offset = offset;
    }
    AlterOffsetsPtr request(rd_kafka_AlterConsumerGroupOffsets_new(group.c_str(), list.get()));
    rd_kafka_AlterConsumerGroupOffsets_t* requests[] = {request.get()};
    const std::string what = "reset offsets of group " + group;
    auto event = admin(RD_KAFKA_ADMIN_OP_ALTERCONSUMERGROUPOFFSETS,
                       RD_KAFKA_EVENT_ALTERCONSUMERGROUPOFFSETS_RESULT, what, deadline,
                       [&](rd_kafka_AdminOptions_t* options, rd_kafka_queue_t* queue) {
                         rd_kafka_AlterConsumerGroupOffsets(rk_, requests, 1, options, queue);
                       });
    if (!event) return event.error();
    std::size_t count = 0;
    const rd_kafka_group_result_t** groups = rd_kafka_AlterConsumerGroupOffsets_result_groups(
        rd_kafka_event_AlterConsumerGroupOffsets_result(event.value().get()), &count);
    if (count != 1) return Error{"kafka", what + ": " + std::to_string(count) + " answers"};
    if (const rd_kafka_error_t* e = rd_kafka_group_result_error(groups[0])) {
      if (member_error(rd_kafka_error_code(e))) {
        return Error{"group_active",
                     what + ": a member joined meanwhile (" + text(rd_kafka_error_string(e)) + ")"};
      }
      return fail(rd_kafka_error_code(e), what, rd_kafka_error_string(e));
    }
    const rd_kafka_topic_partition_list_t* results = rd_kafka_group_result_partitions(groups[0]);
    std::size_t altered = 0;
    std::string failures;
    rd_kafka_resp_err_t first_error = RD_KAFKA_RESP_ERR_NO_ERROR;
    for (int p = 0; results != nullptr && p < results->cnt; ++p) {
      const rd_kafka_topic_partition_t& partition = results->elems[p];
      if (partition.err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        ++altered;
        continue;
      }
      if (first_error == RD_KAFKA_RESP_ERR_NO_ERROR) first_error = partition.err;
      failures += "; " + where(partition) + ": " + rd_kafka_err2str(partition.err);
    }
    if (first_error == RD_KAFKA_RESP_ERR_NO_ERROR) return altered;
    const std::string reason = std::to_string(altered) + " of " + std::to_string(offsets.size()) +
                               " partitions reset" + failures;
    Error e = fail(first_error, what, reason.c_str());
    // The group's own check passed, so a member joined between it and the commit.
    if (member_error(first_error)) e.code = "group_active";
    return e;
  }
};

std::int64_t GroupLag::total() const {
  std::int64_t sum = 0;
  for (const auto& p : partitions) sum += p.lag;
  return sum;
}

KafkaAdmin::KafkaAdmin(std::string brokers, std::chrono::milliseconds timeout,
                       events::KafkaProperties overrides)
    : brokers_(std::move(brokers)), timeout_(timeout) {
  overrides.emplace("bootstrap.servers", brokers_);
  overrides.emplace("client.id", "bazaarctl");
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set_log_cb(conf, &log_to_spdlog);
  rd_kafka_conf_set_error_cb(conf, &error_to_spdlog);
  for (const auto& [name, value] : overrides) {
    if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      client_error_ = Error{"kafka_client", "kafka property " + name + ": " + err};
      return;
    }
  }
  // Admin requests need a client of any kind; a producer that never produces joins no group.
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);  // rd_kafka_new owns it only when it succeeds
    client_error_ = Error{"kafka_client", err};
    return;
  }
  client_ = std::make_unique<Client>(rk, brokers_);
}

KafkaAdmin::~KafkaAdmin() = default;

Result<std::vector<std::string>> KafkaAdmin::topics() {
  if (client_ == nullptr) return client_error_;
  client_->serve_callbacks();
  const Deadline deadline(timeout_);
  auto layout = client_->layout(deadline);
  if (!layout) return layout.error();
  std::vector<std::string> names;
  for (const auto& [name, partitions] : layout.value()) {
    // The C metadata has no is_internal flag; Kafka names its internal topics `__*`.
    if (name.rfind("__", 0) != 0) names.push_back(name);
  }
  return names;
}

Result<std::vector<GroupInfo>> KafkaAdmin::groups() {
  if (client_ == nullptr) return client_error_;
  client_->serve_callbacks();
  const Deadline deadline(timeout_);
  auto ids = client_->group_ids(deadline);
  if (!ids) return ids.error();
  return client_->describe(ids.value(), deadline);
}

Result<GroupLag> KafkaAdmin::lag(const std::string& group) {
  if (client_ == nullptr) return client_error_;
  if (group.empty()) return Error{"invalid_argument", "no group named"};
  client_->serve_callbacks();
  const Deadline deadline(timeout_);
  auto info = client_->describe_one(group, deadline);
  if (!info) return info.error();
  auto committed = client_->committed(group, deadline);
  if (!committed) return committed.error();
  if (info.value().members.empty() && committed.value().empty()) {
    return Error{"unknown_group", "group " + group + " has no members and no committed offsets"};
  }

  // Every partition of the topics it consumes: a partition it never committed on is lag too.
  std::set<std::string> consumed;
  for (const auto& [at, offset] : committed.value()) consumed.insert(at.first);
  for (const auto& member : info.value().members) {
    for (const auto& [topic, partition] : member.assignment) consumed.insert(topic);
  }
  auto layout = client_->layout(deadline);
  if (!layout) return layout.error();
  std::vector<TopicPartition> wanted;
  for (const auto& topic : consumed) {
    // Offsets left behind on a deleted topic have nothing to lag behind.
    const auto found = layout.value().find(topic);
    if (found == layout.value().end()) continue;
    for (const int partition : found->second) wanted.emplace_back(topic, partition);
  }
  auto starts = client_->offsets(wanted, RD_KAFKA_OFFSET_BEGINNING, deadline);
  if (!starts) return starts.error();
  auto ends = client_->offsets(wanted, RD_KAFKA_OFFSET_END, deadline);
  if (!ends) return ends.error();

  GroupLag out{.info = std::move(info.value()), .partitions = {}};
  for (const auto& at : wanted) {
    const auto found = committed.value().find(at);
    const std::int64_t committed_offset = found != committed.value().end() ? found->second : -1;
    const std::int64_t start = starts.value().at(at);
    const std::int64_t end = ends.value().at(at);
    // Without a commit the group starts at the beginning (auto.offset.reset=earliest); a
    // commit below the start points at records retention removed, and resumes there too.
    const std::int64_t resume = std::max(committed_offset, start);
    out.partitions.push_back(PartitionLag{.topic = at.first,
                                          .partition = at.second,
                                          .committed = committed_offset,
                                          .end = end,
                                          .lag = std::max<std::int64_t>(0, end - resume)});
  }
  return out;
}

Result<std::size_t> KafkaAdmin::reset_to_beginning(const std::string& group,
                                                   const std::vector<std::string>& topics) {
  if (client_ == nullptr) return client_error_;
  if (group.empty()) return Error{"invalid_argument", "no group named"};
  if (topics.empty()) return Error{"invalid_argument", "no topics to reset group " + group + " on"};
  client_->serve_callbacks();
  const Deadline deadline(timeout_);
  auto info = client_->describe_one(group, deadline);
  if (!info) return info.error();
  // A running member would go on from its own position and overwrite ours at its next commit.
  if (!info.value().members.empty()) {
    std::string who;
    for (const auto& member : info.value().members) {
      who += (who.empty() ? "" : ", ") + member.client_id + "@" + member.host;
    }
    return Error{"group_active", "group " + group + " is " + info.value().state + " with " +
                                     std::to_string(info.value().members.size()) + " member(s) (" +
                                     who + "): stop its service first"};
  }
  // Kafka describes a group it does not know as Dead; resetting one would create it, which is
  // what a mistyped name does.
  if (info.value().state ==
      rd_kafka_consumer_group_state_name(RD_KAFKA_CONSUMER_GROUP_STATE_DEAD)) {
    auto committed = client_->committed(group, deadline);
    if (!committed) return committed.error();
    if (committed.value().empty()) {
      return Error{"unknown_group", "group " + group + " does not exist and has no offsets"};
    }
  }

  auto layout = client_->layout(deadline);
  if (!layout) return layout.error();
  std::vector<TopicPartition> wanted;
  for (const auto& topic : std::set<std::string>(topics.begin(), topics.end())) {
    const auto found = layout.value().find(topic);
    if (found == layout.value().end()) {
      return Error{"unknown_topic", "no topic " + topic + " (nothing reset)"};
    }
    for (const int partition : found->second) wanted.emplace_back(topic, partition);
  }
  // The low watermark, not offset 0: below it retention has removed the records.
  auto starts = client_->offsets(wanted, RD_KAFKA_OFFSET_BEGINNING, deadline);
  if (!starts) return starts.error();
  return client_->alter(group, starts.value(), deadline);
}

}  // namespace bazaar::ctl
