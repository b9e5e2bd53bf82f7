#include "events/outbox.hpp"

#include <libpq-fe.h>
#include <poll.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <spdlog/spdlog.h>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <stdexcept>
#include <thread>

#include "events/backoff.hpp"
#include "events/metrics.hpp"
#include "events/producer.hpp"
#include "events/schema_registry.hpp"

namespace bazaar::events {
namespace {

// The relay's lock key; one relay per database whatever the service.
constexpr long long kRelayLock = 0x6261'7a61'6172'0002;

constexpr const char* kInsertOutbox = R"sql(
INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload, headers)
VALUES (CAST(:id AS uuid), :topic, :key, :type, CAST(:payload AS jsonb), CAST(:headers AS jsonb)))sql";

constexpr const char* kSelectBatch = R"sql(
SELECT seq, aggregatetype, aggregateid, payload::text, headers::text
FROM outbox WHERE published_at IS NULL ORDER BY seq LIMIT :n)sql";

constexpr const char* kMarkPublished =
    "UPDATE outbox SET published_at = now() WHERE seq = ANY(CAST(:seqs AS bigint[]))";

constexpr const char* kBacklog = "SELECT count(*) FROM outbox WHERE published_at IS NULL";

constexpr const char* kPurgeOutbox =
    "DELETE FROM outbox WHERE published_at < now() - make_interval(hours => :h)";
constexpr const char* kPurgeInbox =
    "DELETE FROM inbox WHERE received_at < now() - make_interval(hours => :h)";

constexpr auto kPurgeEvery = std::chrono::minutes{10};

PGconn* native(soci::session& s) {
  return static_cast<soci::postgresql_session_backend*>(s.get_backend())->conn_;
}

void sleep_unless_stopped(const std::atomic<bool>& stop, std::chrono::milliseconds d) {
  const auto until = std::chrono::steady_clock::now() + d;
  while (!stop.load() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(d, std::chrono::milliseconds{50}));
  }
}

}  // namespace

OutboxWriter::OutboxWriter(soci::session& sql, const SchemaRegistry& schemas)
    : sql_(sql), schemas_(schemas) {}

void OutboxWriter::add(const std::string& topic, const Envelope& e) {
  if (auto valid = schemas_.validate(e.type, e.data); !valid) {
    throw std::logic_error("outgoing " + e.type + " breaks its schema: " + valid.error().message);
  }
  boost::json::object headers;
  for (const auto& [name, value] : to_headers(e)) headers[name] = value;
  std::string id = e.id;
  std::string topic_name = topic;
  std::string key = e.subject;
  std::string type = e.type;
  std::string payload = encode_payload(e);
  std::string header_text = boost::json::serialize(headers);
  sql_ << kInsertOutbox, soci::use(id), soci::use(topic_name), soci::use(key), soci::use(type),
      soci::use(payload), soci::use(header_text);
  ++added_;
}

OutboxRelay::OutboxRelay(RelaySettings settings, Producer& producer, Metrics* metrics)
    : settings_(std::move(settings)),
      producer_(producer),
      metrics_(metrics),
      db_(settings_.db_url) {}

bool OutboxRelay::acquire() {
  if (locked_) return true;
  soci::session& sql = db_.session();
  long long key = kRelayLock;
  int got = 0;
  sql << "SELECT CASE WHEN pg_try_advisory_lock(:k) THEN 1 ELSE 0 END", soci::use(key),
      soci::into(got);
  if (got == 0) return false;
  sql << "LISTEN bazaar_outbox";
  locked_ = true;
  spdlog::info("outbox relay holds the lock of its database");
  purge();
  return true;
}

OutboxRelay::Pass OutboxRelay::publish_once() {
  Pass pass;
  if (!acquire()) return pass;
  soci::session& sql = db_.session();
  const auto n = static_cast<std::size_t>(settings_.batch);
  std::vector<long long> seqs(n);
  std::vector<std::string> topics(n), keys(n), payloads(n), header_texts(n);
  int limit = settings_.batch;
  sql << kSelectBatch, soci::into(seqs), soci::into(topics), soci::into(keys),
      soci::into(payloads), soci::into(header_texts), soci::use(limit);
  if (seqs.empty()) {
    if (metrics_ != nullptr) metrics_->outbox_backlog.Set(0);
    return pass;
  }

  std::vector<OutgoingRecord> records(seqs.size());
  for (std::size_t i = 0; i < seqs.size(); ++i) {
    records[i].topic = std::move(topics[i]);
    records[i].key = std::move(keys[i]);
    records[i].value = std::move(payloads[i]);
    const boost::json::value headers = boost::json::parse(header_texts[i]);
    for (const auto& [name, value] : headers.as_object()) {
      records[i].headers.emplace_back(std::string(name), std::string(value.as_string()));
    }
  }
  const auto reports = producer_.send(records, settings_.send_timeout);

  // Only confirmed rows are marked. With the gapless idempotent producer a failure stops its
  // partition, so confirmed rows never overtake an unconfirmed one of the same key.
  std::string confirmed = "{";
  for (std::size_t i = 0; i < reports.size(); ++i) {
    if (reports[i].delivered) {
      if (pass.published > 0) confirmed += ',';
      confirmed += std::to_string(seqs[i]);
      ++pass.published;
    } else {
      if (pass.error.empty()) pass.error = reports[i].error;
      ++pass.failed;
    }
  }
  confirmed += '}';
  if (pass.published > 0) sql << kMarkPublished, soci::use(confirmed);
  pass.more = pass.failed == 0 && seqs.size() == n;
  if (metrics_ != nullptr) {
    metrics_->outbox_published.Increment(static_cast<double>(pass.published));
    // Counting the backlog costs a query: only when a full batch says there may be one.
    if (pass.more) {
      long long backlog = 0;
      sql << kBacklog, soci::into(backlog);
      metrics_->outbox_backlog.Set(static_cast<double>(backlog));
    } else {
      metrics_->outbox_backlog.Set(static_cast<double>(pass.failed));
    }
  }
  return pass;
}

void OutboxRelay::purge() {
  soci::session& sql = db_.session();
  int hours = static_cast<int>(settings_.retention.count());
  sql << kPurgeOutbox, soci::use(hours);
  sql << kPurgeInbox, soci::use(hours);
}

void OutboxRelay::wait_for_notification(std::chrono::milliseconds timeout) {
  PGconn* conn = native(db_.session());
  // A NOTIFY that arrived during our own queries is already in libpq's queue, not on the
  // socket: waiting on the socket then would sleep through it.
  if (PQconsumeInput(conn) == 0) {
    throw std::runtime_error(std::string("outbox LISTEN connection: ") + PQerrorMessage(conn));
  }
  bool queued = false;
  while (PGnotify* n = PQnotifies(conn)) {
    PQfreemem(n);
    queued = true;
  }
  if (queued) return;
  pollfd fd{PQsocket(conn), POLLIN, 0};
  if (::poll(&fd, 1, static_cast<int>(timeout.count())) > 0) {
    if (PQconsumeInput(conn) == 0) {
      throw std::runtime_error(std::string("outbox LISTEN connection: ") + PQerrorMessage(conn));
    }
    while (PGnotify* n = PQnotifies(conn)) PQfreemem(n);
  }
}

void OutboxRelay::run(const std::atomic<bool>& stop) {
  Backoff backoff({.initial = std::chrono::milliseconds{100}, .max = std::chrono::seconds{5}});
  auto next_purge = std::chrono::steady_clock::now() + kPurgeEvery;
  while (!stop.load()) {
    try {
      const Pass pass = publish_once();
      if (!locked_) {  // another instance relays; check again later
        sleep_unless_stopped(stop, settings_.poll * 4);
        continue;
      }
      if (pass.failed > 0) {
        const auto delay = backoff.next();
        spdlog::warn("outbox relay: {} rows not delivered ({}); retrying in {} ms", pass.failed,
                     pass.error, delay.count());
        sleep_unless_stopped(stop, delay);
        continue;
      }
      backoff.reset();
      if (pass.more) continue;
      if (std::chrono::steady_clock::now() >= next_purge) {
        purge();
        next_purge = std::chrono::steady_clock::now() + kPurgeEvery;
      }
      wait_for_notification(settings_.poll);
    } catch (const std::exception& e) {
      // The session is gone or unusable: its advisory lock went with it.
      const auto delay = backoff.next();
      spdlog::warn("outbox relay: {}; reconnecting in {} ms", error_summary(e), delay.count());
      db_.reset();
      locked_ = false;
      sleep_unless_stopped(stop, delay);
    }
  }
}

}  // namespace bazaar::events
