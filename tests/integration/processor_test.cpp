// The one handler shape against the real broker and PostgreSQL: duplicates change nothing,
// poison messages go to the dead-letter topic with their reason while the partition moves on,
// a database outage is retried, never skipped, and a member stopped as its group forms leaves
// cleanly.
#include <doctest/doctest.h>
#include <librdkafka/rdkafkacpp.h>
#include <soci/soci.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <boost/json/parse.hpp>
#include <condition_variable>
#include <cstdlib>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "events/kafka_client.hpp"
#include "fixture.hpp"

using namespace bazaar;
using namespace bazaar::tests;
using namespace std::chrono_literals;

namespace {

void send_all(Platform& p, const std::vector<events::OutgoingRecord>& records) {
  const auto reports = p.producer.send(records, 30s);
  for (const auto& r : reports) REQUIRE_MESSAGE(r.delivered, r.error);
}

long long applied(soci::session& sql, const std::string& group) {
  long long n = 0;
  std::string consumer = group;
  sql << "SELECT count(*) FROM probe_applied WHERE consumer = :c", soci::use(consumer),
      soci::into(n);
  return n;
}

void run_infra(const char* command) {
  const std::string line = std::string(BAZAAR_SOURCE_ROOT "/scripts/infra ") + command;
  REQUIRE(std::system(line.c_str()) == 0);
}

}  // namespace

TEST_CASE("a duplicate delivery changes nothing") {
  Platform p;
  auto sql = clean_test_database();
  const std::string topic = unique_name("itest.dup");
  const std::string group = unique_name("itest-dup");
  create_topic(topic, 3);

  const auto first = probe_event(p.factory, "order-1", 1);
  const auto second = probe_event(p.factory, "order-1", 2);
  const auto last = probe_event(p.factory, "order-1", 3);
  // The same event (same ce_id) three times, as a producer retry or a replay would send it.
  send_all(p, {record_of(topic, first), record_of(topic, first), record_of(topic, second),
               record_of(topic, first), record_of(topic, second), record_of(topic, last)});

  RunningProcessor consumer(p, group, {topic});
  REQUIRE(wait_until(30s, [&] {
    return counter_value(p.metrics.messages, {{"topic", topic}, {"outcome", "duplicate"}}) >= 3;
  }));
  CHECK(applied(*sql, group) == 3);
  CHECK(count(*sql, "SELECT count(*) FROM inbox") == 3);
  CHECK(counter_value(p.metrics.messages, {{"topic", topic}, {"outcome", "processed"}}) == 3);
  CHECK(count(*sql, "SELECT count(*) FROM probe_applied WHERE seq = 1") == 1);
}

TEST_CASE("offsets are committed once per commit interval and for sure when the member leaves") {
  Platform p;
  auto sql = clean_test_database();
  const std::string topic = unique_name("itest.offsets");
  const std::string group = unique_name("itest-offsets");
  create_topic(topic, 1);
  auto committed = [&] {
    auto conf = events::make_kafka_conf({{"bootstrap.servers", p.brokers}, {"group.id", group}});
    std::string err;
    std::unique_ptr<RdKafka::KafkaConsumer> reader(RdKafka::KafkaConsumer::create(conf.get(), err));
    REQUIRE_MESSAGE(reader != nullptr, err);
    std::vector<RdKafka::TopicPartition*> parts{RdKafka::TopicPartition::create(topic, 0)};
    REQUIRE(reader->committed(parts, 10'000) == RdKafka::ERR_NO_ERROR);
    const std::int64_t offset = parts[0]->offset();
    RdKafka::TopicPartition::destroy(parts);
    reader->close();
    return offset;
  };
  {
    RunningProcessor consumer(p, group, {topic}, 1'000'000, nullptr, false,
                              std::chrono::minutes{10});
    send_all(p, {record_of(topic, probe_event(p.factory, "k", 1))});
    REQUIRE(wait_until(30s, [&] { return applied(*sql, group) == 1; }));
    // The first commit goes out at once.
    REQUIRE(wait_until(30s, [&] { return committed() == 1; }));
    send_all(p, {record_of(topic, probe_event(p.factory, "k", 2)),
                 record_of(topic, probe_event(p.factory, "k", 3))});
    REQUIRE(wait_until(30s, [&] { return applied(*sql, group) == 3; }));
    // Within the interval the later ones wait (a crash would replay them into the inbox)...
    CHECK(committed() == 1);
  }
  // ...and leaving the group commits them.
  CHECK(committed() == 3);
}

TEST_CASE(
    "poison messages go to the dead-letter topic with their reason while the partition moves on") {
  Platform p;
  auto sql = clean_test_database();
  const std::string topic = unique_name("itest.poison");
  const std::string group = unique_name("itest-poison");
  create_topic(topic, 1);  // one partition: the good record after the poison must still come

  auto good1 = record_of(topic, probe_event(p.factory, "k", 1));
  auto not_json = record_of(topic, probe_event(p.factory, "k", 2));
  not_json.value = "{this is not json";
  auto invalid = record_of(topic, probe_event(p.factory, "k", 3));
  invalid.value = R"({"key":"k","seq":-5})";
  auto rejected = record_of(topic, probe_event(p.factory, "k", 4, "permanent"));
  auto headerless = record_of(topic, probe_event(p.factory, "k", 5));
  headerless.headers.clear();
  auto good2 = record_of(topic, probe_event(p.factory, "k", 6));
  send_all(p, {good1, not_json, invalid, rejected, headerless, good2});

  {
    RunningProcessor consumer(p, group, {topic});
    REQUIRE(wait_until(30s, [&] { return applied(*sql, group) == 2; }));
    REQUIRE(wait_until(10s, [&] {
      return counter_value(p.metrics.dead_letters, {{"topic", topic}}) == 4;
    }));
    // The batch that held the poison was rolled back and redone one by one: effects outside
    // the database ran once per committed record, never for the rolled-back try.
    CHECK(consumer.handler().committed_effects() == 2);
  }
  CHECK(count(*sql, "SELECT count(*) FROM probe_applied WHERE seq IN (1, 6)") == 2);

  const auto dead = read_topic("dlq." + group, 4, 30s);
  REQUIRE(dead.size() == 4);
  const std::map<std::int64_t, std::string> reason_by_offset{
      {1, "undecodable"}, {2, "schema_violation"}, {3, "rejected"}, {4, "undecodable"}};
  for (const auto& d : dead) {
    const auto offset = std::stoll(d.header("dlq_original_offset"));
    CAPTURE(offset);
    CHECK(d.header("dlq_original_topic") == topic);
    CHECK(d.header("dlq_original_partition") == "0");
    CHECK(d.header("dlq_consumer_group") == group);
    CHECK(d.header("dlq_reason") == reason_by_offset.at(offset));
    CHECK_FALSE(d.header("dlq_error").empty());
    CHECK(d.key == "k");  // the original key, so a redrive lands on the same partition
  }
  // The original record travels unchanged, so it can be inspected and redriven.
  const auto schema_case = std::find_if(dead.begin(), dead.end(), [](const auto& d) {
    return d.header("dlq_reason") == "schema_violation";
  });
  REQUIRE(schema_case != dead.end());
  CHECK(schema_case->value == R"({"key":"k","seq":-5})");
  CHECK(schema_case->header("dlq_error").find("/seq") != std::string::npos);
}

TEST_CASE("a record too large for the dead-letter topic goes there as a reference, once") {
  Platform p;
  auto sql = clean_test_database();
  const std::string topic = unique_name("itest.huge");
  const std::string group = unique_name("itest-huge");
  create_topic(topic, 1);  // one partition: what follows the huge record must still come

  // 50 kB breaks the Probe schema (note: at most 200 characters) and the dead-letter limit.
  auto huge_event = probe_event(p.factory, "k", 1);
  huge_event.data.as_object()["note"] = std::string(50'000, 'x');
  const auto huge = record_of(topic, huge_event);
  auto invalid = record_of(topic, probe_event(p.factory, "k", 2));
  invalid.value = R"({"key":"k","seq":-1})";
  const auto good = record_of(topic, probe_event(p.factory, "k", 3));
  send_all(p, {huge, invalid, good});

  events::Producer small_producer{p.brokers, {{"message.max.bytes", "20000"}}};
  bool own_limit = true;
  SUBCASE("our own limit is below the record") {
    own_limit = true;
  }
  SUBCASE("only the producer refuses it, as a topic's limit would") {
    own_limit = false;
  }
  {
    RunningProcessor consumer(p, group, {topic}, own_limit ? 20'000 : 1'000'000,
                              own_limit ? nullptr : &small_producer);
    REQUIRE(wait_until(30s, [&] { return applied(*sql, group) == 1; }));
  }
  const auto dead = read_topic("dlq." + group, 2, 30s);
  REQUIRE(dead.size() == 2);  // each once, however often the partition was retried
  const auto& reference = dead.at(0);
  CHECK(reference.header("dlq_original_offset") == "0");
  CHECK(reference.header("dlq_reason") == "schema_violation");
  CHECK(reference.header("dlq_payload_omitted") == "true");
  CHECK(reference.header("dlq_payload_bytes") == std::to_string(huge.value.size()));
  CHECK(reference.header("ce_id") == huge_event.id);  // the original headers travel on
  CHECK(reference.key == "k");
  const auto ref = boost::json::parse(reference.value).as_object();
  CHECK(ref.at("topic").as_string() == topic);
  CHECK(ref.at("offset").as_int64() == 0);
  CHECK(ref.at("size").to_number<std::size_t>() == huge.value.size());
  CHECK(dead.at(1).header("dlq_original_offset") == "1");
  CHECK(dead.at(1).value == invalid.value);
}

TEST_CASE("a record behind one that is retried is dead-lettered once") {
  Platform p;
  auto sql = clean_test_database();
  const std::string topic = unique_name("itest.behind");
  const std::string group = unique_name("itest-behind");
  create_topic(topic, 1);
  auto invalid = record_of(topic, probe_event(p.factory, "k", 2));
  invalid.value = R"({"key":"k","seq":-1})";
  send_all(p, {record_of(topic, probe_event(p.factory, "k", 1, "transient_briefly")), invalid,
               record_of(topic, probe_event(p.factory, "k", 3))});
  {
    RunningProcessor consumer(p, group, {topic});
    REQUIRE(wait_until(30s, [&] { return applied(*sql, group) == 2; }));
  }
  CHECK(counter_value(p.metrics.messages, {{"topic", topic}, {"outcome", "retried"}}) >= 1);
  const auto dead = read_topic("dlq." + group, 1, 30s);
  CHECK(dead.size() == 1);
  CHECK(counter_value(p.metrics.dead_letters, {{"topic", topic}}) == 1);
}

TEST_CASE("a dead-lettered key parks its later records until a redrive releases it") {
  Platform p;
  auto sql = clean_test_database();
  const std::string topic = unique_name("itest.quarantine");
  const std::string group = unique_name("itest-quarantine");
  create_topic(topic, 1);  // one partition: B's records share it with A's
  ProbeHandler::bug_present = true;
  send_all(p, {record_of(topic, probe_event(p.factory, "A", 1, "bug")),
               record_of(topic, probe_event(p.factory, "B", 1)),
               record_of(topic, probe_event(p.factory, "A", 2)),
               record_of(topic, probe_event(p.factory, "B", 2))});
  auto dead = [&] { return counter_value(p.metrics.dead_letters, {{"topic", topic}}); };
  auto applied_key = [&](const std::string& key) {
    long long n = 0;
    *sql << "SELECT count(*) FROM probe_applied WHERE key = :key", soci::use(key, "key"),
        soci::into(n);
    return n;
  };
  {
    RunningProcessor consumer(p, group, {topic}, 1'000'000, nullptr, true);
    REQUIRE(wait_until(30s, [&] { return applied_key("B") == 2 && dead() == 2; }));
  }
  CHECK(applied_key("A") == 0);  // A2 waits behind A1 instead of overtaking it
  CHECK(count(*sql, "SELECT count(*) FROM quarantined_keys WHERE record_key = 'A'") == 1);

  // A restart keeps the wait: a later record of A is parked too.
  send_all(p, {record_of(topic, probe_event(p.factory, "A", 3))});
  {
    RunningProcessor consumer(p, group, {topic}, 1'000'000, nullptr, true);
    REQUIRE(wait_until(30s, [&] { return dead() == 3; }));
  }
  CHECK(applied_key("A") == 0);
  const auto letters = read_topic("dlq." + group, 3, 30s);
  REQUIRE(letters.size() == 3);
  std::map<std::int64_t, std::string> reason_by_offset;
  for (const auto& d : letters)
    reason_by_offset[std::stoll(d.header("dlq_original_offset"))] = d.header("dlq_reason");
  CHECK(reason_by_offset ==
        std::map<std::int64_t, std::string>{{0, "rejected"}, {2, "parked"}, {4, "parked"}});

  // The fix, then a redrive of A's dead letters in their original order releases the key.
  ProbeHandler::bug_present = false;
  std::vector<events::OutgoingRecord> redrive;
  for (const auto& [offset, reason] : reason_by_offset) {
    const auto& d = *std::find_if(letters.begin(), letters.end(), [&](const ConsumedRecord& r) {
      return r.header("dlq_original_offset") == std::to_string(offset);
    });
    events::OutgoingRecord r{topic, d.key, d.value, {}};
    for (const auto& [name, value] : d.headers) {
      if (!name.starts_with("dlq_")) r.headers.emplace_back(name, value);
    }
    r.headers.emplace_back("bazaar_redriven_from", "dlq." + group + "/0@" + std::to_string(offset));
    r.headers.emplace_back("bazaar_redriven_original", topic + "/0@" + std::to_string(offset));
    redrive.push_back(std::move(r));
  }
  send_all(p, redrive);
  {
    RunningProcessor consumer(p, group, {topic}, 1'000'000, nullptr, true);
    REQUIRE(wait_until(30s, [&] { return applied_key("A") == 3; }));
  }
  CHECK(count(*sql, "SELECT count(*) FROM quarantined_keys") == 0);
  CHECK(count(*sql, R"sql(
    SELECT count(*) FROM (
      SELECT seq < lag(seq) OVER (PARTITION BY key ORDER BY applied_seq) AS backwards
      FROM probe_applied) t WHERE backwards)sql") == 0);
  CHECK(dead() == 3);  // nothing dead-lettered again
}

TEST_CASE("PostgreSQL stopped and restarted mid-stream is retried and nothing is skipped") {
  Platform p;
  auto sql = clean_test_database();
  const std::string topic = unique_name("itest.pgdown");
  const std::string group = unique_name("itest-pgdown");
  create_topic(topic, 6);
  const int keys = 8;
  const int per_key = 40;

  auto batch = [&](int from, int to) {
    std::vector<events::OutgoingRecord> records;
    for (int seq = from; seq < to; ++seq) {
      for (int k = 0; k < keys; ++k) {
        records.push_back(
            record_of(topic, probe_event(p.factory, "key-" + std::to_string(k), seq)));
      }
    }
    send_all(p, records);
  };

  RunningProcessor consumer(p, group, {topic});
  batch(0, 10);
  REQUIRE(wait_until(30s, [&] { return applied(*sql, group) == keys * 10; }));

  sql.reset();
  run_infra("postgres-stop");
  batch(10, per_key);  // the broker keeps taking records while the database is down
  const bool retried = wait_until(30s, [&] {
    return counter_value(p.metrics.messages, {{"topic", topic}, {"outcome", "retried"}}) >= 1;
  });
  run_infra("postgres-start");
  REQUIRE(retried);

  sql = connect_test_database();
  CHECK(wait_until(60s, [&] { return applied(*sql, group) >= keys * per_key; }));
  CHECK(applied(*sql, group) == keys * per_key);
  CHECK(count(*sql, "SELECT count(DISTINCT (key, seq)) FROM probe_applied") == keys * per_key);
  CHECK(count(*sql, R"sql(
    SELECT count(*) FROM (
      SELECT seq <> lag(seq) OVER (PARTITION BY key ORDER BY applied_seq) + 1 AS gap
      FROM probe_applied) t WHERE gap)sql") == 0);
  CHECK(counter_value(p.metrics.dead_letters, {{"topic", topic}}) == 0);
}

namespace {

/// The log lines of this process while it lives, at debug level.
class CapturedLog {
 public:
  CapturedLog() : sink_(std::make_shared<Sink>()), level_(spdlog::default_logger()->level()) {
    spdlog::default_logger()->sinks().push_back(sink_);
    spdlog::default_logger()->set_level(spdlog::level::debug);
  }
  ~CapturedLog() {
    spdlog::default_logger()->set_level(level_);
    auto& sinks = spdlog::default_logger()->sinks();
    sinks.erase(std::remove(sinks.begin(), sinks.end(), sink_), sinks.end());
  }
  CapturedLog(const CapturedLog&) = delete;
  CapturedLog& operator=(const CapturedLog&) = delete;
  /// Whether a line holding every one of `parts` was logged.
  bool seen(std::initializer_list<std::string_view> parts) const {
    const std::lock_guard lock(sink_->lines_mutex);
    return std::any_of(sink_->lines.begin(), sink_->lines.end(), [&](const std::string& line) {
      return std::all_of(parts.begin(), parts.end(),
                         [&](std::string_view p) { return line.find(p) != std::string::npos; });
    });
  }

 private:
  struct Sink final : spdlog::sinks::base_sink<std::mutex> {
    std::mutex lines_mutex;
    std::vector<std::string> lines;
    void sink_it_(const spdlog::details::log_msg& msg) override {
      const std::lock_guard lock(lines_mutex);
      lines.emplace_back(msg.payload.data(), msg.payload.size());
    }
    void flush_() override {}
  };
  std::shared_ptr<Sink> sink_;
  spdlog::level::level_enum level_;
};

/// librdkafka's log callback of a consumer that stalls its own client thread at the first
/// JoinGroup answer naming it leader once armed: a rebalance it leads then waits for its
/// SyncGroup, and every other member waits between its JoinGroup and SyncGroup answers.
class StalledLeader final : public RdKafka::EventCb {
 public:
  void event_cb(RdKafka::Event& event) override {
    if (event.type() != RdKafka::Event::EVENT_LOG) return;
    const std::string line = event.str();
    if (line.find("JoinGroup response: GenerationId") == std::string::npos ||
        line.find("(me)") == std::string::npos) {
      return;
    }
    std::unique_lock lock(mutex_);
    if (!armed_) return;
    stalled_ = true;
    changed_.notify_all();
    changed_.wait(lock, [this] { return released_; });
  }
  void arm() {
    const std::lock_guard lock(mutex_);
    armed_ = true;
  }
  bool stalled() {
    const std::lock_guard lock(mutex_);
    return stalled_;
  }
  void release() {
    const std::lock_guard lock(mutex_);
    released_ = true;
    changed_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  bool armed_ = false;
  bool stalled_ = false;
  bool released_ = false;
};

}  // namespace

TEST_CASE("a member stopped between joining its group and its first assignment leaves cleanly") {
  // librdkafka 2.0.2 aborts the process when such a member is destroyed: a service stopped
  // while its groups formed died with SIGABRT instead of stopping.
  Platform p;
  auto sql = clean_test_database();
  const std::string topic = unique_name("itest.join");
  const std::string group = unique_name("itest-join");
  create_topic(topic, 2);

  StalledLeader stall;
  auto conf = events::make_kafka_conf({{"bootstrap.servers", p.brokers},
                                       {"group.id", group},
                                       {"partition.assignment.strategy", "cooperative-sticky"},
                                       {"debug", "cgrp"}});
  std::string err;
  REQUIRE(conf->set("event_cb", static_cast<RdKafka::EventCb*>(&stall), err) ==
          RdKafka::Conf::CONF_OK);
  std::unique_ptr<RdKafka::KafkaConsumer> leader(RdKafka::KafkaConsumer::create(conf.get(), err));
  REQUIRE_MESSAGE(leader != nullptr, err);
  struct Release {  // the leader's thread is never left stalled, whatever fails below
    StalledLeader& stall;
    ~Release() { stall.release(); }
  } release{stall};
  REQUIRE(leader->subscribe({topic}) == RdKafka::ERR_NO_ERROR);
  REQUIRE(wait_until(30s, [&] {
    std::unique_ptr<RdKafka::Message> m(leader->consume(100));
    std::vector<RdKafka::TopicPartition*> owned;
    leader->assignment(owned);
    const bool assigned = !owned.empty();
    RdKafka::TopicPartition::destroy(owned);
    return assigned;
  }));
  stall.arm();

  CapturedLog log;
  ProbeHandler handler(group);
  events::Processor member(events::ProcessorSettings{.brokers = p.brokers,
                                                     .group = group,
                                                     .topics = {topic},
                                                     .db_url = p.db_url,
                                                     .overrides = {{"debug", "cgrp"}}},
                           handler, p.schemas, p.factory, p.producer, &p.metrics);
  std::atomic<bool> stop{false};
  std::thread running([&] { member.run(stop); });
  // Its JoinGroup is answered; its SyncGroup waits for the stalled leader.
  const bool joined = wait_until(30s, [&] {
    return stall.stalled() && log.seen({"JoinGroup response: GenerationId", "(no error)"});
  });
  stop.store(true);
  CHECK(joined);
  CHECK(wait_until(30s, [&] { return log.seen({group, "stopping before its first assignment"}); }));
  stall.release();
  running.join();
  CHECK(log.seen({"consumer group " + group + ": assigned"}));
  CHECK(log.seen({"consumer group " + group + " left"}));
  leader->close();
}
