#include "events/processor.hpp"

#include <librdkafka/rdkafkacpp.h>
#include <soci/soci.h>
#include <spdlog/spdlog.h>

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <map>
#include <optional>
#include <set>
#include <tuple>

#include "events/batch_order.hpp"
#include "events/crash_points.hpp"
#include "events/db.hpp"
#include "events/inbox.hpp"
#include "events/log.hpp"
#include "events/metrics.hpp"
#include "events/outbox.hpp"
#include "events/producer.hpp"
#include "events/schema_registry.hpp"
#include "events/storable.hpp"

namespace bazaar::events {
namespace {

using PartitionKey = std::pair<std::string, std::int32_t>;
// One key of one partition, the unit of quarantine.
using RecordKey = std::tuple<std::string, std::int32_t, std::string>;

constexpr const char* kParked = "parked";
// A record holding a value no column can hold, that its handler does not answer with a
// rejection event. No redrive can ever apply it, so its key's later records do not wait for it.
constexpr const char* kInvalidValue = "invalid_value";

constexpr const char* kLoadQuarantine = R"sql(
SELECT topic, kafka_partition, record_key, first_record FROM quarantined_keys
WHERE consumer = :consumer)sql";
constexpr const char* kQuarantineKey = R"sql(
INSERT INTO quarantined_keys (consumer, topic, kafka_partition, record_key, first_record)
VALUES (:consumer, :topic, :partition, :key, :first)
ON CONFLICT DO NOTHING)sql";
constexpr const char* kMoveHead = R"sql(
UPDATE quarantined_keys SET first_record = :first
WHERE consumer = :consumer AND topic = :topic AND kafka_partition = :partition
  AND record_key = :key)sql";
constexpr const char* kReleaseKey = R"sql(
DELETE FROM quarantined_keys
WHERE consumer = :consumer AND topic = :topic AND kafka_partition = :partition
  AND record_key = :key)sql";

// Longer than the session timeout: a leader that never answers is evicted by then and the
// group settles without it.
constexpr std::chrono::seconds kFirstAssignmentWait{15};

enum class Outcome { processed, refused, duplicate, ignored, dead_lettered, transient };

const char* outcome_name(Outcome o) {
  switch (o) {
    case Outcome::processed:
      return "processed";
    case Outcome::refused:
      return "refused";
    case Outcome::duplicate:
      return "duplicate";
    case Outcome::ignored:
      return "ignored";
    case Outcome::dead_lettered:
      return "dead_lettered";
    case Outcome::transient:
      return "retried";
  }
  return "unknown";
}

// Effects after a commit must not undo it: one that throws is logged and the rest still run.
void run_effects(const std::vector<std::function<void()>>& effects) {
  for (const auto& effect : effects) {
    try {
      effect();
    } catch (const std::exception& e) {
      spdlog::warn("an after-commit effect failed: {}", e.what());
    }
  }
}

Headers headers_of(RdKafka::Message& m) {
  Headers out;
  const RdKafka::Headers* h = m.headers();
  if (h == nullptr) return out;
  for (const auto& header : h->get_all()) {
    const auto* value = static_cast<const char*>(header.value());
    out.emplace_back(header.key(),
                     value != nullptr ? std::string(value, header.value_size()) : std::string{});
  }
  return out;
}

std::string key_of(const RdKafka::Message& m) {
  const std::string* k = m.key();
  return k != nullptr ? *k : std::string{};
}

std::string header_value(RdKafka::Message& m, const std::string& name) {
  const RdKafka::Headers* h = m.headers();
  if (h == nullptr) return {};
  for (const auto& header : h->get_all()) {
    if (header.key() == name && header.value() != nullptr) {
      return std::string(static_cast<const char*>(header.value()), header.value_size());
    }
  }
  return {};
}

std::string_view payload_of(const RdKafka::Message& m) {
  return {static_cast<const char*>(m.payload()), m.len()};
}

// Frees a librdkafka-returned list of partitions when it goes out of scope.
struct PartitionList {
  std::vector<RdKafka::TopicPartition*> items;
  ~PartitionList() { RdKafka::TopicPartition::destroy(items); }
};

std::size_t record_size(const OutgoingRecord& r) {
  std::size_t n = r.key.size() + r.value.size();
  for (const auto& [name, value] : r.headers) n += name.size() + value.size();
  return n;
}

// Replaces the payload of a dead letter by a reference to the original record, and keeps only
// the headers that fit: the dead-letter ones first, then the original ones that are small.
void shrink_dead_letter(OutgoingRecord& record, const RdKafka::Message& m) {
  constexpr std::size_t kMaxKeptHeader = 1024;
  const std::size_t original = m.len();
  record.value = boost::json::serialize(boost::json::object{{"dlq_payload_omitted", true},
                                                            {"topic", m.topic_name()},
                                                            {"partition", m.partition()},
                                                            {"offset", m.offset()},
                                                            {"size", original}});
  Headers kept;
  for (auto& [name, value] : record.headers) {
    if (name.starts_with("dlq_") || name.size() + value.size() <= kMaxKeptHeader) {
      kept.emplace_back(std::move(name), std::move(value));
    }
  }
  kept.emplace_back("dlq_payload_omitted", "true");
  kept.emplace_back("dlq_payload_bytes", std::to_string(original));
  record.headers = std::move(kept);
  if (record.key.size() > kMaxKeptHeader) record.key.resize(kMaxKeptHeader);
}

// A record whose unstorable value its handler could not refuse (the rejection event has no
// aggregate to name): dead-lettered like one that has no refusal at all.
Error unrefusable(const UnstorableValue& value, const std::string& why) {
  return Error{kInvalidValue, "payload field " + value.message() + "; not refused: " + why};
}

}  // namespace

class Processor::Impl final : public RdKafka::RebalanceCb, public RdKafka::OffsetCommitCb {
 public:
  Impl(ProcessorSettings settings, Handler& handler, const SchemaRegistry& schemas,
       const EnvelopeFactory& factory, Producer& dlq, Metrics* metrics)
      : settings_(std::move(settings)),
        handler_(handler),
        schemas_(schemas),
        factory_(factory),
        dlq_(dlq),
        metrics_(metrics),
        db_(settings_.db_url),
        dlq_topic_("dlq." + settings_.group) {}

  void run(const std::atomic<bool>& stop);

  void rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                    std::vector<RdKafka::TopicPartition*>& partitions) override;
  void offset_commit_cb(RdKafka::ErrorCode err,
                        std::vector<RdKafka::TopicPartition*>& offsets) override;

 private:
  struct Paused {
    std::int64_t offset;
    std::chrono::steady_clock::time_point resume_at;
  };

  // One polled record on its way through the batch.
  struct Entry {
    RdKafka::Message* message;
    PartitionKey key;
    Envelope event;
    std::optional<Outcome> outcome;  ///< empty while it still needs the database
    /// Why it must be dead-lettered; it is, in partition order, once every record before it
    /// is done, so a record behind one being retried is never dead-lettered twice.
    std::optional<Error> poison;
    /// A value no column can hold, answered by the handler's refusal instead of applied.
    std::optional<UnstorableValue> unstorable;
    bool releases = false;       ///< the head of a quarantined key: applying it frees the key
    bool redrives_head = false;  ///< a redriven copy of that head (it may fail again)
  };

  void connect();
  void load_quarantine();
  /// Reloads the quarantined keys when partitions came; false (after a pause) when it failed.
  bool reload_parked();
  RecordKey record_key(const Entry& e) const;
  /// Marks quarantined keys and keys poisoned earlier in the batch: their records wait.
  void park(std::vector<Entry>& entries);
  /// Records the key of a record about to be dead-lettered; false when the database failed.
  bool quarantine(const Entry& e);
  std::optional<Outcome> precheck(Entry& e);
  /// Applies one record in `sql`'s open transaction, its events queued in `outbox`; `fresh`
  /// says whether the inbox took its id (false: a duplicate, skipped).
  Outcome apply_in(soci::session& sql, Entry& e, std::vector<std::function<void()>>& on_commit,
                   OutboxWriter& outbox, bool fresh);
  std::optional<std::vector<Outcome>> apply_together(std::vector<Entry*>& entries);
  /// Applies one record in its own transaction: sets its outcome, or its poison when it can
  /// never be applied.
  void apply_one(Entry& e);
  void handle_batch(std::vector<std::unique_ptr<RdKafka::Message>>& batch);
  /// Applies a batch of several partitions in the order its records were written (time_order).
  static void order_by_time(std::vector<std::unique_ptr<RdKafka::Message>>& batch);
  Outcome dead_letter(RdKafka::Message& m, const Error& why, const Headers& extra = {});
  void pause(const PartitionKey& key, std::int64_t offset);
  void resume_due();
  /// Records `offsets` as done; they go to the broker with the next flush_offsets().
  void commit(const std::map<PartitionKey, std::int64_t>& offsets);
  /// Commits the offsets done since the last commit, asynchronously, once the commit interval
  /// passed since then.
  void flush_offsets();
  /// Commits them at once and waits (leaving the group).
  void flush_offsets_now();
  /// Waits, within a deadline, for the first assignment of a member stopped before it came.
  /// librdkafka 2.0.2 aborts the process when a cooperative-sticky member is destroyed
  /// between its first JoinGroup and SyncGroup answers (its assignor state is still empty;
  /// fixed upstream in 2.3.0). Once assigned, the member leaves and is destroyed safely.
  /// False when the deadline passed first.
  bool await_first_assignment();
  /// The offsets done since the last commit, as a list to commit; empties them.
  PartitionList take_uncommitted();
  void update_lag();
  Backoff& backoff_for(const PartitionKey& key);

  ProcessorSettings settings_;
  Handler& handler_;
  const SchemaRegistry& schemas_;
  const EnvelopeFactory& factory_;
  Producer& dlq_;
  Metrics* metrics_;
  Database db_;
  std::string dlq_topic_;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  std::map<PartitionKey, Paused> paused_;
  std::set<PartitionKey> owned_;  // assigned to this member now
  // After a rewind, records already fetched past the rewind point are stale until the
  // rewound record comes back.
  std::map<PartitionKey, std::int64_t> rewound_to_;
  std::map<PartitionKey, Backoff> backoffs_;
  std::map<RecordKey, std::string> quarantined_;       // key -> where its first dead letter was
  std::map<PartitionKey, std::int64_t> done_offsets_;  // last offsets done, per partition
  std::map<PartitionKey, std::int64_t> uncommitted_;   // done, not yet sent to the broker
  std::chrono::steady_clock::time_point next_commit_{};
  bool reload_quarantine_ = true;  // partitions came: another member may have parked keys
  bool assigned_once_ = false;     // a first assignment came (it may have had no partitions)
  std::chrono::steady_clock::time_point next_lag_update_{};
};

void Processor::Impl::rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                                   std::vector<RdKafka::TopicPartition*>& partitions) {
  const bool cooperative = consumer->rebalance_protocol() == "COOPERATIVE";
  // librdkafka keeps an application pause across unassign and reassign: a partition paused
  // for a retry and handed back later would never be fetched again.
  consumer->resume(partitions);
  if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
    reload_quarantine_ = true;
    assigned_once_ = true;
    for (auto* tp : partitions) owned_.insert({tp->topic(), tp->partition()});
    if (cooperative) {
      delete consumer->incremental_assign(partitions);
    } else {
      consumer->assign(partitions);
    }
  } else {
    // Offsets of what was processed go out asynchronously every commit interval; before the
    // partitions move they are committed for sure, or the next owner would replay (and
    // dead-letter again) what this member already finished.
    PartitionList done;
    for (auto* tp : partitions) {
      const PartitionKey key{tp->topic(), tp->partition()};
      uncommitted_.erase(key);
      const auto last = done_offsets_.find(key);
      if (last == done_offsets_.end()) continue;
      done.items.push_back(
          RdKafka::TopicPartition::create(tp->topic(), tp->partition(), last->second));
      done_offsets_.erase(last);
    }
    if (!done.items.empty()) {
      if (const auto code = consumer->commitSync(done.items); code != RdKafka::ERR_NO_ERROR) {
        spdlog::warn("offset commit of revoked partitions for group {} failed: {}", settings_.group,
                     RdKafka::err2str(code));
      }
    }
    for (auto* tp : partitions) {
      const PartitionKey key{tp->topic(), tp->partition()};
      owned_.erase(key);
      paused_.erase(key);
      rewound_to_.erase(key);
      backoffs_.erase(key);
    }
    if (cooperative) {
      delete consumer->incremental_unassign(partitions);
    } else {
      consumer->unassign();
    }
  }
  spdlog::info("consumer group {}: {} {} partitions", settings_.group,
               err == RdKafka::ERR__ASSIGN_PARTITIONS ? "assigned" : "revoked", partitions.size());
}

void Processor::Impl::offset_commit_cb(RdKafka::ErrorCode err,
                                       std::vector<RdKafka::TopicPartition*>& offsets) {
  // A failed commit only means a replay the inbox absorbs, but a lasting one must be seen.
  if (err != RdKafka::ERR_NO_ERROR && err != RdKafka::ERR__NO_OFFSET) {
    spdlog::warn("offset commit of {} partitions for group {} failed: {}", offsets.size(),
                 settings_.group, RdKafka::err2str(err));
    if (metrics_ != nullptr) {
      metrics_->messages.Add({{"topic", "_offsets"}, {"outcome", "commit_failed"}}).Increment();
    }
  }
}

void Processor::Impl::connect() {
  if (auto made = ensure_topics(settings_.brokers, {{dlq_topic_, settings_.dlq_partitions,
                                                     settings_.replication_factor}});
      !made) {
    throw std::runtime_error("cannot create " + dlq_topic_ + ": " + made.error().message);
  }
  KafkaProperties props{
      {"bootstrap.servers", settings_.brokers},
      {"group.id", settings_.group},
      {"client.id", settings_.group},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"auto.offset.reset", "earliest"},
      {"partition.assignment.strategy", "cooperative-sticky"},
      {"session.timeout.ms", "10000"},
      {"heartbeat.interval.ms", "1000"},
      {"fetch.wait.max.ms", std::to_string(settings_.fetch_wait.count())},
      {"fetch.min.bytes", std::to_string(settings_.fetch_min_bytes)},
      {"topic.metadata.refresh.interval.ms", "10000"},
  };
  for (const auto& [k, v] : settings_.overrides) props[k] = v;
  auto conf = make_kafka_conf(props);
  std::string err;
  if (conf->set("rebalance_cb", static_cast<RdKafka::RebalanceCb*>(this), err) !=
          RdKafka::Conf::CONF_OK ||
      conf->set("offset_commit_cb", static_cast<RdKafka::OffsetCommitCb*>(this), err) !=
          RdKafka::Conf::CONF_OK) {
    throw std::invalid_argument("kafka callbacks: " + err);
  }
  consumer_.reset(RdKafka::KafkaConsumer::create(conf.get(), err));
  if (!consumer_) throw std::runtime_error("kafka consumer: " + err);
  if (const auto code = consumer_->subscribe(settings_.topics); code != RdKafka::ERR_NO_ERROR) {
    throw std::runtime_error("kafka subscribe: " + RdKafka::err2str(code));
  }
}

void Processor::Impl::load_quarantine() {
  if (!settings_.quarantine || !reload_quarantine_) return;
  quarantined_.clear();
  soci::session& sql = db_.session();
  soci::rowset<soci::row> rows =
      (sql.prepare << kLoadQuarantine, soci::use(settings_.group, "consumer"));
  for (const auto& row : rows) {
    quarantined_[{row.get<std::string>(0), row.get<int>(1), row.get<std::string>(2)}] =
        row.get<std::string>(3);
  }
  reload_quarantine_ = false;
  if (!quarantined_.empty()) {
    spdlog::warn("{}: {} keys wait behind their dead letters until a redrive", settings_.group,
                 quarantined_.size());
  }
}

bool Processor::Impl::reload_parked() {
  try {
    load_quarantine();
    return true;
  } catch (const std::exception& e) {
    // Applying records without knowing which keys wait could break their order: wait instead.
    spdlog::warn("{}: cannot read the quarantined keys: {}", settings_.group, error_summary(e));
    if (!db_.connected()) db_.reset();
    return false;
  }
}

RecordKey Processor::Impl::record_key(const Entry& e) const {
  return {e.key.first, e.key.second, key_of(*e.message)};
}

void Processor::Impl::park(std::vector<Entry>& entries) {
  if (!settings_.quarantine) return;
  std::set<RecordKey> poisoned;  // keys whose record in this batch will be dead-lettered
  std::set<RecordKey> released;  // keys whose head in this batch frees them
  const std::string own_dlq = dlq_topic_ + "/";
  for (auto& e : entries) {
    const RecordKey rk = record_key(e);
    if (std::get<2>(rk).empty() || e.outcome) continue;  // no key to keep in order, or done
    if (const auto q = quarantined_.find(rk);
        q != quarantined_.end() && !released.contains(rk) && !poisoned.contains(rk)) {
      // Only the key's head frees it: its redriven copy from our own dead-letter topic, or the
      // record itself retried (its dead letter was never sent). Anything else waits.
      const std::string self = std::get<0>(rk) + "/" + std::to_string(std::get<1>(rk)) + "@" +
                               std::to_string(e.message->offset());
      e.redrives_head = header_value(*e.message, "bazaar_redriven_from").starts_with(own_dlq) &&
                        header_value(*e.message, "bazaar_redriven_original") == q->second;
      if (e.redrives_head || self == q->second) {
        if (!e.poison) {
          e.releases = true;
          released.insert(rk);
        }
      } else if (!e.poison) {
        e.poison = Error{kParked, "waits behind the dead letter of its key (" + q->second + ")"};
      }
    } else if (poisoned.contains(rk) && !e.poison) {
      e.poison = Error{kParked, "waits behind the dead letter of its key in this partition"};
    }
    if (e.poison && e.poison->code != kInvalidValue) poisoned.insert(rk);
  }
}

bool Processor::Impl::quarantine(const Entry& e) {
  if (!settings_.quarantine) return true;
  const RecordKey rk = record_key(e);
  const auto& [topic, partition, key] = rk;
  if (key.empty()) return true;
  const std::string first =
      topic + "/" + std::to_string(partition) + "@" + std::to_string(e.message->offset());
  const auto known = quarantined_.find(rk);
  // A redriven head that failed again becomes the head: its next redrive must free the key.
  if (known != quarantined_.end() && !e.redrives_head) return true;
  try {
    if (known == quarantined_.end()) {
      db_.session() << kQuarantineKey, soci::use(settings_.group, "consumer"),
          soci::use(topic, "topic"), soci::use(partition, "partition"), soci::use(key, "key"),
          soci::use(first, "first");
    } else {
      db_.session() << kMoveHead, soci::use(first, "first"), soci::use(settings_.group, "consumer"),
          soci::use(topic, "topic"), soci::use(partition, "partition"), soci::use(key, "key");
    }
  } catch (const std::exception& error) {
    spdlog::warn("{}: cannot record the quarantine of a key: {}", settings_.group,
                 error_summary(error));
    if (!db_.connected()) db_.reset();
    return false;
  }
  quarantined_[rk] = first;
  return true;
}

Backoff& Processor::Impl::backoff_for(const PartitionKey& key) {
  auto it = backoffs_.find(key);
  if (it == backoffs_.end()) it = backoffs_.emplace(key, Backoff(settings_.backoff)).first;
  return it->second;
}

Outcome Processor::Impl::dead_letter(RdKafka::Message& m, const Error& why, const Headers& extra) {
  OutgoingRecord record{dlq_topic_, key_of(m), std::string(payload_of(m)), headers_of(m)};
  for (const auto& header : extra) record.headers.push_back(header);
  record.headers.emplace_back("dlq_reason", why.code);
  record.headers.emplace_back("dlq_error", why.message);
  record.headers.emplace_back("dlq_original_topic", m.topic_name());
  record.headers.emplace_back("dlq_original_partition", std::to_string(m.partition()));
  record.headers.emplace_back("dlq_original_offset", std::to_string(m.offset()));
  record.headers.emplace_back("dlq_consumer_group", settings_.group);
  record.headers.emplace_back("dlq_failed_at", format_rfc3339(std::chrono::system_clock::now()));
  // A record that cannot fit the dead-letter topic as it is would be retried forever and
  // block its partition: its payload is replaced by where it still is, and its size.
  if (record_size(record) > settings_.dlq_max_bytes) shrink_dead_letter(record, m);
  auto report = dlq_.send({record}, std::chrono::seconds{15}).front();
  if (!report.delivered && report.too_large && !record.value.empty()) {
    shrink_dead_letter(record, m);  // a topic limit below ours
    report = dlq_.send({record}, std::chrono::seconds{15}).front();
  }
  if (!report.delivered) {
    // Moving on without a copy in the DLQ would lose the record: retry it instead.
    spdlog::warn("dead-letter publish to {} failed: {}", dlq_topic_, report.error);
    return Outcome::transient;
  }
  // The payload may hold personal data: log where it was, never what it said.
  spdlog::warn("dead-lettered {}/{}@{} to {}: {}: {}", m.topic_name(), m.partition(), m.offset(),
               dlq_topic_, why.code, why.message);
  if (metrics_ != nullptr) metrics_->dead_letters.Add({{"topic", m.topic_name()}}).Increment();
  return Outcome::dead_lettered;
}

std::optional<Outcome> Processor::Impl::precheck(Entry& e) {
  auto decoded = decode(headers_of(*e.message), payload_of(*e.message));
  if (!decoded) {
    e.poison = decoded.error();
    return std::nullopt;
  }
  e.event = std::move(decoded).value();
  if (!handler_.wants(e.event.type)) return Outcome::ignored;
  // Before the schema, which would hide what is wrong: valijson reads a string only up to its
  // first NUL, and a number beyond int64 is no "integer" to it.
  if (auto bad = find_unstorable(e.event.data)) {
    if (handler_.refuses(e.event.type)) {
      e.unstorable = std::move(bad);
    } else {
      e.poison = Error{kInvalidValue, "payload field " + bad->message()};
    }
    return std::nullopt;
  }
  if (auto valid = schemas_.validate(e.event.type, e.event.data); !valid) e.poison = valid.error();
  return std::nullopt;
}

Outcome Processor::Impl::apply_in(soci::session& sql, Entry& e,
                                  std::vector<std::function<void()>>& on_commit,
                                  OutboxWriter& outbox, bool fresh) {
  RdKafka::Message& m = *e.message;
  const Envelope& event = e.event;
  log::ScopedContext context(event.correlation_id, trace_id_of(event.traceparent));
  if (e.releases) {
    // The key's wait ends with the effect of its redriven record, in one transaction.
    const auto& [topic, partition, key] = record_key(e);
    sql << kReleaseKey, soci::use(settings_.group, "consumer"), soci::use(topic, "topic"),
        soci::use(partition, "partition"), soci::use(key, "key");
    on_commit.push_back([this, rk = record_key(e)] {
      quarantined_.erase(rk);
      spdlog::info("{}: key {} of {}/{} released by a redrive", settings_.group, std::get<2>(rk),
                   std::get<0>(rk), std::get<1>(rk));
    });
  }
  if (!fresh) return Outcome::duplicate;
  HandlerContext ctx{event, sql, outbox, factory_, factory_.clock(), &on_commit};
  if (e.unstorable) {
    handler_.refuse(ctx, *e.unstorable);
    on_commit.push_back([where = m.topic_name() + "/" + std::to_string(m.partition()) + "@" +
                                 std::to_string(m.offset()),
                         type = event.type, why = e.unstorable->message()] {
      spdlog::warn("{} {} refused: payload field {}", where, type, why);
    });
    return Outcome::refused;
  }
  handler_.apply(ctx);
  return Outcome::processed;
}

std::optional<std::vector<Outcome>> Processor::Impl::apply_together(std::vector<Entry*>& entries) {
  std::vector<Outcome> outcomes;
  std::vector<std::function<void()>> on_commit;
  try {
    soci::session& sql = db_.session();
    Transaction tx(sql);
    handler_.begin(sql);
    // One statement records the batch in the inbox and opens the transaction (its BEGIN goes
    // with it), one writes the outbox before the commit.
    std::vector<InboxRecord> sources;
    sources.reserve(entries.size());
    for (const Entry* e : entries) {
      sources.push_back(
          {&e->event, e->message->topic_name(), e->message->partition(), e->message->offset()});
    }
    const std::vector<bool> fresh = record_all_in_inbox(tx, settings_.group, sources);
    if (entries.size() > 1) {
      std::vector<const Envelope*> batch;
      batch.reserve(entries.size());
      for (const Entry* e : entries) batch.push_back(&e->event);
      handler_.lock_ahead(sql, batch);
    }
    OutboxWriter outbox(sql, schemas_, OutboxWriter::Write::at_flush);
    for (std::size_t i = 0; i < entries.size(); ++i) {
      if (i > 0) crash_point(crash::kBetweenBatchRecords);
      outcomes.push_back(apply_in(sql, *entries[i], on_commit, outbox, fresh[i]));
    }
    handler_.before_commit(sql, outbox);
    outbox.commit(tx);
    run_effects(on_commit);
    return outcomes;
  } catch (const std::exception& e) {
    // Something in the batch failed: it is rolled back whole and redone one by one, so that
    // only the failing record is retried or dead-lettered.
    spdlog::debug("batch of {} fell back to one transaction each: {}", entries.size(),
                  error_summary(e));
    if (!db_.connected()) db_.reset();
    return std::nullopt;
  }
}

void Processor::Impl::apply_one(Entry& e) {
  RdKafka::Message& m = *e.message;
  try {
    soci::session& sql = db_.session();
    Transaction tx(sql);
    handler_.begin(sql);
    std::vector<std::function<void()>> on_commit;
    OutboxWriter outbox(sql, schemas_, OutboxWriter::Write::at_flush);
    const bool fresh =
        record_in_inbox(tx, settings_.group, e.event, m.topic_name(), m.partition(), m.offset());
    const Outcome outcome = apply_in(sql, e, on_commit, outbox, fresh);
    if (outcome == Outcome::duplicate) {
      tx.rollback();
    } else {
      handler_.before_commit(sql, outbox);
      outbox.commit(tx);
      run_effects(on_commit);
    }
    e.outcome = outcome;
  } catch (const PermanentError& error) {
    e.poison =
        e.unstorable ? unrefusable(*e.unstorable, error.what()) : Error{"rejected", error.what()};
  } catch (const TransientError& error) {
    spdlog::warn("{}/{}@{}: retrying: {}", m.topic_name(), m.partition(), m.offset(), error.what());
    e.outcome = Outcome::transient;
  } catch (const std::exception& error) {
    if (classify(error, db_) == FailureKind::transient) {
      spdlog::warn("{}/{}@{}: transient failure: {}", m.topic_name(), m.partition(), m.offset(),
                   error_summary(error));
      if (!db_.connected()) db_.reset();
      e.outcome = Outcome::transient;
      return;
    }
    e.poison = e.unstorable ? unrefusable(*e.unstorable, error_summary(error))
                            : Error{"handler_error", error_summary(error)};
  }
}

void Processor::Impl::pause(const PartitionKey& key, std::int64_t offset) {
  const auto delay = backoff_for(key).next();
  paused_[key] = Paused{offset, std::chrono::steady_clock::now() + delay};
  PartitionList list{{RdKafka::TopicPartition::create(key.first, key.second)}};
  consumer_->pause(list.items);
}

void Processor::Impl::resume_due() {
  const auto now = std::chrono::steady_clock::now();
  for (auto it = paused_.begin(); it != paused_.end();) {
    if (it->second.resume_at > now) {
      ++it;
      continue;
    }
    const auto& [topic, partition] = it->first;
    std::unique_ptr<RdKafka::TopicPartition> at(
        RdKafka::TopicPartition::create(topic, partition, it->second.offset));
    if (const auto code = consumer_->seek(*at, 5000); code != RdKafka::ERR_NO_ERROR) {
      spdlog::warn("seek {}/{} to {} failed: {}; retrying", topic, partition, it->second.offset,
                   RdKafka::err2str(code));
      it->second.resume_at = now + std::chrono::milliseconds{200};
      ++it;
      continue;
    }
    rewound_to_[it->first] = it->second.offset;
    PartitionList list{{RdKafka::TopicPartition::create(topic, partition)}};
    consumer_->resume(list.items);
    it = paused_.erase(it);
  }
}

void Processor::Impl::commit(const std::map<PartitionKey, std::int64_t>& offsets) {
  for (const auto& [key, next] : offsets) {
    done_offsets_[key] = next;
    uncommitted_[key] = next;
  }
  flush_offsets();
}

void Processor::Impl::flush_offsets() {
  if (uncommitted_.empty()) return;
  const auto now = std::chrono::steady_clock::now();
  if (now < next_commit_) return;
  next_commit_ = now + settings_.commit_interval;
  PartitionList list = take_uncommitted();
  // Asynchronous: the effects are already durable, so a commit that is late or lost only
  // replays records that the inbox absorbs; waiting for it would add a round trip per batch.
  if (const auto code = consumer_->commitAsync(list.items); code != RdKafka::ERR_NO_ERROR) {
    spdlog::warn("offset commit for group {} failed: {}", settings_.group, RdKafka::err2str(code));
  }
}

PartitionList Processor::Impl::take_uncommitted() {
  PartitionList list;
  for (const auto& [key, next] : uncommitted_) {
    list.items.push_back(RdKafka::TopicPartition::create(key.first, key.second, next));
  }
  uncommitted_.clear();
  return list;
}

void Processor::Impl::flush_offsets_now() {
  if (uncommitted_.empty()) return;
  PartitionList list = take_uncommitted();
  if (const auto code = consumer_->commitSync(list.items); code != RdKafka::ERR_NO_ERROR) {
    spdlog::warn("offset commit for group {} failed: {}", settings_.group, RdKafka::err2str(code));
  }
}

void Processor::Impl::update_lag() {
  if (metrics_ == nullptr) return;
  const auto now = std::chrono::steady_clock::now();
  if (now < next_lag_update_) return;
  next_lag_update_ = now + std::chrono::seconds{5};
  PartitionList list;
  if (consumer_->assignment(list.items) != RdKafka::ERR_NO_ERROR) return;
  if (consumer_->position(list.items) != RdKafka::ERR_NO_ERROR) return;
  for (const auto* tp : list.items) {
    std::int64_t low = 0;
    std::int64_t high = 0;
    if (consumer_->get_watermark_offsets(tp->topic(), tp->partition(), &low, &high) !=
            RdKafka::ERR_NO_ERROR ||
        tp->offset() < 0 || high < 0) {
      continue;
    }
    metrics_->consumer_lag
        .Add({{"topic", tp->topic()}, {"partition", std::to_string(tp->partition())}})
        .Set(static_cast<double>(high - tp->offset()));
  }
}

void Processor::Impl::handle_batch(std::vector<std::unique_ptr<RdKafka::Message>>& batch) {
  const auto started = std::chrono::steady_clock::now();
  std::vector<Entry> entries;
  std::set<PartitionKey> stopped;  // paused during this batch: later records wait
  for (const auto& m : batch) {
    if (m->err() != RdKafka::ERR_NO_ERROR) {
      if (m->err() != RdKafka::ERR__TIMED_OUT && m->err() != RdKafka::ERR__PARTITION_EOF) {
        spdlog::warn("consumer group {}: {}", settings_.group, m->errstr());
      }
      continue;
    }
    const PartitionKey key{m->topic_name(), m->partition()};
    if (!owned_.contains(key)) continue;  // revoked while this batch was polled
    if (paused_.contains(key)) continue;  // fetched before the pause; re-read after it
    if (auto r = rewound_to_.find(key); r != rewound_to_.end()) {
      if (m->offset() != r->second) continue;  // stale copy from before the rewind
      rewound_to_.erase(r);
    }
    Entry e{m.get(), key, {}, std::nullopt, std::nullopt, std::nullopt};
    e.outcome = precheck(e);
    entries.push_back(std::move(e));
  }
  park(entries);

  // The fast path: every record that needs the database in one transaction, one commit.
  std::vector<Entry*> needing;
  for (auto& e : entries) {
    if (!e.outcome && !e.poison) needing.push_back(&e);
  }
  if (!needing.empty()) {
    auto outcomes = handler_.batchable() || needing.size() == 1
                        ? apply_together(needing)
                        : std::optional<std::vector<Outcome>>{};
    if (outcomes) {
      for (std::size_t i = 0; i < needing.size(); ++i) needing[i]->outcome = (*outcomes)[i];
    } else {
      std::set<RecordKey> poisoned;  // a handler refused a record of the key: the rest wait
      for (Entry* e : needing) {
        if (stopped.contains(e->key)) continue;
        if (settings_.quarantine && poisoned.contains(record_key(*e))) {
          e->poison = Error{kParked, "waits behind the dead letter of its key in this partition"};
          continue;
        }
        apply_one(*e);
        if (e->outcome == Outcome::transient) stopped.insert(e->key);
        if (e->poison && e->poison->code != kInvalidValue && !key_of(*e->message).empty()) {
          poisoned.insert(record_key(*e));
        }
      }
    }
  }

  // Each partition commits up to its first record that is not done, and pauses there.
  std::map<PartitionKey, std::int64_t> done;
  std::set<PartitionKey> halted;
  for (auto& e : entries) {
    if (halted.contains(e.key)) continue;
    if (e.poison && !e.outcome) {
      log::ScopedContext context(e.event.correlation_id, trace_id_of(e.event.traceparent));
      if (e.poison->code == kParked || e.poison->code == kInvalidValue) {
        // A parked record's key is already held; an invalid value's never needs to be.
        e.outcome = dead_letter(*e.message, *e.poison);
      } else if (!quarantine(e)) {
        e.outcome = Outcome::transient;  // the key's order must be kept: retry, never skip
      } else {
        e.outcome = dead_letter(*e.message, *e.poison);
      }
    }
    if (!e.outcome || *e.outcome == Outcome::transient) {
      if (e.outcome)
        pause(e.key, e.message->offset());
      else if (auto p = paused_.find(e.key); p == paused_.end())
        pause(e.key, e.message->offset());
      halted.insert(e.key);
      if (metrics_ != nullptr) {
        metrics_->messages.Add({{"topic", e.key.first}, {"outcome", "retried"}}).Increment();
      }
      continue;
    }
    backoffs_.erase(e.key);
    done[e.key] = e.message->offset() + 1;
    if (metrics_ != nullptr) {
      metrics_->messages.Add({{"topic", e.key.first}, {"outcome", outcome_name(*e.outcome)}})
          .Increment();
    }
  }
  // The effects are durable; the offsets are not yet: a crash here replays into the inbox.
  if (!done.empty()) crash_point(crash::kAfterCommitBeforeOffset);
  commit(done);
  if (metrics_ != nullptr && !entries.empty()) {
    const double per_record =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count() /
        static_cast<double>(entries.size());
    for (const auto& e : entries) {
      metrics_->handle_seconds
          .Add({{"topic", e.key.first}},
               prometheus::Histogram::BucketBoundaries{0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5})
          .Observe(per_record);
    }
  }
}

void Processor::Impl::order_by_time(std::vector<std::unique_ptr<RdKafka::Message>>& batch) {
  // The poll stops at its first error: the records before it are what time_order() reorders.
  std::size_t polled = 0;
  while (polled < batch.size() && batch[polled]->err() == RdKafka::ERR_NO_ERROR) ++polled;
  if (polled < 2) return;
  std::vector<std::string> topics;
  topics.reserve(polled);  // the views below point into it
  std::vector<PolledRecord> records;
  records.reserve(polled);
  for (std::size_t i = 0; i < polled; ++i) {
    topics.push_back(batch[i]->topic_name());
    records.push_back({topics.back(), batch[i]->partition(), batch[i]->timestamp().timestamp});
  }
  std::vector<std::unique_ptr<RdKafka::Message>> ordered;
  ordered.reserve(batch.size());
  for (const std::size_t i : time_order(records)) ordered.push_back(std::move(batch[i]));
  for (std::size_t i = polled; i < batch.size(); ++i) ordered.push_back(std::move(batch[i]));
  batch = std::move(ordered);
}

void Processor::Impl::run(const std::atomic<bool>& stop) {
  connect();
  spdlog::info("consumer group {} subscribed to {} topics", settings_.group,
               settings_.topics.size());
  while (!stop.load()) {
    resume_due();
    flush_offsets();  // what an earlier batch left within the interval
    std::vector<std::unique_ptr<RdKafka::Message>> batch;
    batch.emplace_back(consumer_->consume(100));
    while (static_cast<int>(batch.size()) < settings_.max_batch &&
           batch.back()->err() == RdKafka::ERR_NO_ERROR) {
      batch.emplace_back(consumer_->consume(0));
    }
    if (!reload_parked()) {
      // Unknown which keys wait: nothing of this batch is applied; each partition retries it.
      std::set<PartitionKey> seen;
      for (const auto& m : batch) {
        if (m->err() != RdKafka::ERR_NO_ERROR) continue;
        const PartitionKey key{m->topic_name(), m->partition()};
        if (owned_.contains(key) && !paused_.contains(key) && seen.insert(key).second) {
          // After a rewind the first records polled may be stale copies past the rewind point.
          const auto rewound = rewound_to_.find(key);
          pause(key, rewound != rewound_to_.end() ? rewound->second : m->offset());
        }
      }
      continue;
    }
    order_by_time(batch);
    handle_batch(batch);
    update_lag();
  }
  if (!assigned_once_ && !await_first_assignment()) {
    // Destroying the handle now could abort the process; it is left to the process's exit.
    spdlog::warn("consumer group {}: no assignment within {} s of stopping; leaving without it",
                 settings_.group, kFirstAssignmentWait.count());
    consumer_->close();
    static_cast<void>(consumer_.release());
    return;
  }
  // Leaving the group now hands the partitions over at once instead of after a timeout;
  // close() also waits for the last asynchronous offset commits.
  flush_offsets_now();
  consumer_->close();
  spdlog::info("consumer group {} left", settings_.group);
}

bool Processor::Impl::await_first_assignment() {
  spdlog::info("consumer group {}: stopping before its first assignment; waiting for it",
               settings_.group);
  const auto deadline = std::chrono::steady_clock::now() + kFirstAssignmentWait;
  while (!assigned_once_ && std::chrono::steady_clock::now() < deadline) {
    // A record fetched once assigned is dropped unapplied: its offset is never stored.
    std::unique_ptr<RdKafka::Message> dropped(consumer_->consume(100));
  }
  return assigned_once_;
}

Processor::Processor(ProcessorSettings settings, Handler& handler, const SchemaRegistry& schemas,
                     const EnvelopeFactory& factory, Producer& dlq_producer, Metrics* metrics)
    : impl_(std::make_unique<Impl>(std::move(settings), handler, schemas, factory, dlq_producer,
                                   metrics)) {}

Processor::~Processor() = default;

void Processor::run(const std::atomic<bool>& stop) {
  impl_->run(stop);
}

}  // namespace bazaar::events
