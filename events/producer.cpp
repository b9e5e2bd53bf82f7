#include "events/producer.hpp"

#include <librdkafka/rdkafkacpp.h>
#include <spdlog/spdlog.h>

#include <stdexcept>

namespace bazaar::events {
namespace {

std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool size_error(RdKafka::ErrorCode code) {
  return code == RdKafka::ERR_MSG_SIZE_TOO_LARGE || code == RdKafka::ERR_RECORD_LIST_TOO_LARGE;
}

}  // namespace

// Collects delivery reports of the batch being sent; the opaque of each record is its index.
class Producer::Reports final : public RdKafka::DeliveryReportCb {
 public:
  std::vector<DeliveryReport>* batch = nullptr;
  std::size_t pending = 0;
  std::uint32_t generation = 0;

  // The opaque packs the batch generation with the record index, so a late report of an
  // abandoned batch can never be mistaken for one of the current batch.
  void* opaque(std::size_t index) const {
    return reinterpret_cast<void*>(std::uintptr_t{generation} << 32 | index);
  }

  void dr_cb(RdKafka::Message& message) override {
    const auto packed = reinterpret_cast<std::uintptr_t>(message.msg_opaque());
    if (batch == nullptr || (packed >> 32) != generation) return;
    const auto index = packed & 0xffffffffu;
    if (index >= batch->size()) return;
    auto& report = (*batch)[index];
    if (message.err() == RdKafka::ERR_NO_ERROR) {
      report.delivered = true;
      report.partition = message.partition();
      report.offset = message.offset();
    } else {
      report.error = message.errstr();
      report.too_large = size_error(message.err());
    }
    --pending;
  }
};

Producer::Producer(std::string brokers, KafkaProperties overrides)
    : brokers_(std::move(brokers)),
      overrides_(std::move(overrides)),
      reports_(std::make_unique<Reports>()) {
  create();
}

Producer::~Producer() {
  if (producer_) producer_->flush(5000);
}

void Producer::create() {
  KafkaProperties props{
      {"bootstrap.servers", brokers_},
      {"enable.idempotence", "true"},
      {"acks", "all"},
      // A gap in a partition would break per-key order: fail hard instead and resend.
      {"enable.gapless.guarantee", "true"},
      // Records wait to be batched, but never for long: send() flushes, which sends at once
      // whatever is queued (librdkafka 2.0 sends one produce request per partition).
      {"linger.ms", "5"},
      {"message.timeout.ms", "30000"},
      // Records are small and the broker near: compressing cost CPU in every producer, the
      // broker (which decompresses to validate a batch) and every consumer. Services take
      // theirs from --kafka-compression.
      {"compression.type", "none"},
  };
  for (const auto& [k, v] : overrides_) props[k] = v;
  auto conf = make_kafka_conf(props);
  std::string err;
  if (conf->set("dr_cb", static_cast<RdKafka::DeliveryReportCb*>(reports_.get()), err) !=
      RdKafka::Conf::CONF_OK) {
    throw std::invalid_argument("kafka dr_cb: " + err);
  }
  producer_.reset(RdKafka::Producer::create(conf.get(), err));
  if (!producer_) throw std::runtime_error("kafka producer: " + err);
}

std::vector<DeliveryReport> Producer::send(const std::vector<OutgoingRecord>& records,
                                           std::chrono::milliseconds timeout) {
  std::lock_guard lock(mutex_);
  busy_since_ms_.store(steady_ms());
  struct Idle {
    std::atomic<std::int64_t>& since;
    ~Idle() { since.store(0); }
  } idle{busy_since_ms_};
  std::string fatal_reason;
  if (producer_->fatal_error(fatal_reason) != RdKafka::ERR_NO_ERROR) {
    spdlog::warn("kafka producer had a fatal error ({}); creating a new one", fatal_reason);
    producer_.reset();
    create();
    ++recreations_;
  }
  std::vector<DeliveryReport> out(records.size());
  reports_->batch = &out;
  reports_->pending = 0;
  ++reports_->generation;
  const auto deadline = std::chrono::steady_clock::now() + timeout;

  for (std::size_t i = 0; i < records.size(); ++i) {
    const auto& r = records[i];
    while (true) {
      RdKafka::Headers* headers = RdKafka::Headers::create();
      for (const auto& [name, value] : r.headers) headers->add(name, value);
      const auto code =
          producer_->produce(r.topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                             const_cast<char*>(r.value.data()), r.value.size(), r.key.data(),
                             r.key.size(), 0, headers, reports_->opaque(i));
      if (code == RdKafka::ERR_NO_ERROR) {
        ++reports_->pending;
        break;
      }
      delete headers;  // only a successful produce takes ownership
      if (code == RdKafka::ERR__QUEUE_FULL && std::chrono::steady_clock::now() < deadline) {
        producer_->poll(50);
        continue;
      }
      out[i].error = RdKafka::err2str(code);
      out[i].too_large = size_error(code);
      break;
    }
  }
  while (reports_->pending > 0 && std::chrono::steady_clock::now() < deadline) {
    producer_->flush(50);
  }
  if (reports_->pending > 0) {
    // Unconfirmed records stay failed; the caller resends them, and consumers absorb any copy
    // that did reach the broker. Purge so a late report cannot touch a finished batch.
    producer_->purge(RdKafka::Producer::PURGE_QUEUE | RdKafka::Producer::PURGE_INFLIGHT);
    producer_->poll(0);
    for (auto& report : out) {
      if (!report.delivered && report.error.empty()) report.error = "no delivery report in time";
    }
  }
  reports_->batch = nullptr;
  return out;
}

bool Producer::broker_reachable(std::chrono::milliseconds timeout) {
  // A send holds the producer for as long as the broker keeps it waiting (up to its own
  // timeout): rather than wait behind it, judge by how long it has been waiting.
  std::unique_lock lock(mutex_, std::try_to_lock);
  if (!lock.owns_lock()) {
    const std::int64_t since = busy_since_ms_.load();
    return since == 0 || steady_ms() - since < timeout.count();
  }
  RdKafka::Metadata* metadata = nullptr;
  const auto code =
      producer_->metadata(false, nullptr, &metadata, static_cast<int>(timeout.count()));
  delete metadata;
  return code == RdKafka::ERR_NO_ERROR;
}

}  // namespace bazaar::events
