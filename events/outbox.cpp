#include "events/outbox.hpp"

#include <libpq-fe.h>
#include <poll.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cerrno>
#include <cstdint>
#include <exception>
#include <iterator>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <vector>

#include "events/backoff.hpp"
#include "events/crash_points.hpp"
#include "events/metrics.hpp"
#include "events/producer.hpp"
#include "events/schema_registry.hpp"
#include "events/uuid.hpp"

namespace bazaar::events {
namespace {

// Takes the lease when it is free or expired, renews it when this relay holds it. The
// database's clock decides expiry, so instances never compare their own clocks. Returns the
// floor the holders keep in the row; a floor above the last seq handed out belongs to an
// outbox numbered again from the start (a TRUNCATE resets it too), and counts as none.
constexpr const char* kTakeLease = R"sql(
INSERT INTO relay_lease AS l (id, holder, process, expires_at)
VALUES (1, CAST(:holder AS uuid), CAST(:process AS uuid),
        clock_timestamp() + :ms * interval '1 millisecond')
ON CONFLICT (id) DO UPDATE
SET holder = EXCLUDED.holder, process = EXCLUDED.process, expires_at = EXCLUDED.expires_at
WHERE l.holder = EXCLUDED.holder OR l.expires_at < clock_timestamp()
RETURNING CASE WHEN l.floor < (SELECT last_value + CASE WHEN is_called THEN 1 ELSE 0 END
                                FROM outbox_seq_seq)
               THEN l.floor ELSE 0 END)sql";

// Both inserts return their rows as the relay publishes them (OutboxRow), for
// OutboxWriter::committed().
const PreparedStatement kInsertOutbox{"bazaar_outbox_insert", R"sql(
INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload, headers)
VALUES (CAST($1 AS uuid), $2, $3, $4, CAST($5 AS jsonb), CAST($6 AS jsonb))
RETURNING seq, aggregatetype, aggregateid, payload::text, headers::text)sql"};
// The rows of a whole transaction as one JSON array of {id, topic, key, type, payload,
// headers}: payloads and headers are JSON already and go in as they are, with no escaping.
// Rows are inserted, and so numbered by `seq`, in the array's order.
const PreparedStatement kInsertOutboxRows{"bazaar_outbox_insert_rows", R"sql(
INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload, headers)
SELECT CAST(r.e->>'id' AS uuid), r.e->>'topic', r.e->>'key', r.e->>'type', r.e->'payload',
       r.e->'headers'
FROM jsonb_array_elements(CAST($1 AS jsonb)) WITH ORDINALITY AS r(e, n)
ORDER BY r.n
RETURNING seq, aggregatetype, aggregateid, payload::text, headers::text)sql"};

// Not prepared (events::PreparedStatement), unlike the statements every record runs: a generic
// plan, blind to the floor and to the size of the seq list, can walk the published rows the
// floor exists to skip; the bench showed more database time per saga, not less. Each row
// carries the statement's snapshot, which RelayFloor reasons with.
constexpr const char* kSelectBatch = R"sql(
SELECT seq, aggregatetype, aggregateid, payload::text, headers::text, pg_current_snapshot()::text
FROM outbox WHERE seq > :floor AND published_at IS NULL ORDER BY seq LIMIT :n)sql";

// Marks the delivered rows and keeps the floor in the lease row (only while this relay holds
// it), in one transaction whose id it returns: an id given after the batch's snapshot.
// `published_at` is in no index, so the mark is a HOT update that adds no index entry. Not
// prepared: a generic plan made while the outbox was small scanned the whole table on every
// mark once it had grown.
constexpr const char* kMarkPublished = R"sql(
WITH marked AS (
  UPDATE outbox SET published_at = now() WHERE seq = ANY(CAST(:seqs AS bigint[])) RETURNING 1),
kept AS (
  UPDATE relay_lease SET floor = :floor
  WHERE id = 1 AND holder = CAST(:holder AS uuid) AND floor <> :new_floor RETURNING 1)
SELECT pg_current_xact_id()::text)sql";

constexpr const char* kReleaseLease =
    "UPDATE relay_lease SET expires_at = clock_timestamp() WHERE id = 1 "
    "AND holder = CAST(:holder AS uuid)";

constexpr const char* kBacklog =
    "SELECT count(*) FROM outbox WHERE seq > :floor AND published_at IS NULL";

// The oldest row young enough to keep. Rows come in seq order, so the walk along the primary
// key stops there, having read only what the purge deletes.
constexpr const char* kPurgeBound = R"sql(
SELECT seq FROM outbox WHERE created_at >= now() - make_interval(hours => :h)
ORDER BY seq LIMIT 1)sql";
constexpr const char* kPurgeOutbox = R"sql(
DELETE FROM outbox WHERE seq < :bound AND published_at < now() - make_interval(hours => :h))sql";
constexpr const char* kPurgeInbox =
    "DELETE FROM inbox WHERE received_at < now() - make_interval(hours => :h)";

constexpr auto kPurgeEvery = std::chrono::minutes{10};

PGconn* native(soci::session& s) {
  return static_cast<soci::postgresql_session_backend*>(s.get_backend())->conn_;
}

// Which database a connection is to, as writers and relays of one process compare it.
std::string database_of(soci::session& s) {
  PGconn* conn = native(s);
  const char* host = PQhost(conn);
  const char* port = PQport(conn);
  const char* name = PQdb(conn);
  return std::string(name != nullptr ? name : "") + "@" + (host != nullptr ? host : "") + ":" +
         (port != nullptr ? port : "");
}

// Rows handed to one relay and not yet taken, at most: past that they are dropped and a read
// finds them.
constexpr std::size_t kMaxHanded = 10'000;

// This process's id in the lease row and in its connections' `bazaar.process` setting.
const std::string& process_id() {
  static const std::string id = [] {
    const SystemClock clock;
    return UuidV7Generator(clock, system_random()).next().str();
  }();
  return id;
}

// The mailbox of every relay of this process (one per database; tests run several).
struct Bells {
  std::mutex mutex;
  std::vector<RelayMailbox*> boxes;
};

Bells& bells() {
  static Bells b;
  return b;
}

// Empties an eventfd's counter, or libpq's queue of notifications: either woke the relay.
void drain_bell(int fd) {
  std::uint64_t count = 0;
  while (::read(fd, &count, sizeof count) == static_cast<ssize_t>(sizeof count)) {
  }
}

void sleep_unless_stopped(const std::atomic<bool>& stop, std::chrono::milliseconds d) {
  const auto until = std::chrono::steady_clock::now() + d;
  while (!stop.load() && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(
        std::min<std::chrono::milliseconds>(d, std::chrono::milliseconds{50}));
  }
}

}  // namespace

// What this process's writers hand to one relay. Guarded by the Bells mutex.
struct RelayMailbox {
  int bell = -1;         ///< eventfd: written to wake the relay
  std::string database;  ///< set once the relay holds the lease; empty takes nothing
  std::vector<OutboxRow> rows;
  bool scan = false;  ///< a plain wake (ring_relays()) or dropped rows: a read is due
};

namespace {

void wake(const RelayMailbox& box) {
  const std::uint64_t one = 1;
  // A full counter (never in practice) already means "wake up".
  [[maybe_unused]] const auto written = ::write(box.bell, &one, sizeof one);
}

// Returns whether a relay took them.
bool hand_over(const std::string& database, std::vector<OutboxRow>& rows) {
  Bells& b = bells();
  const std::lock_guard lock(b.mutex);
  std::vector<RelayMailbox*> matching;  // one, but for several relays of a database in a test
  for (RelayMailbox* box : b.boxes) {
    if (box->database == database) matching.push_back(box);
  }
  for (RelayMailbox* box : matching) {
    if (box->rows.size() + rows.size() > kMaxHanded) {
      box->rows.clear();
      box->scan = true;
    } else if (box == matching.back()) {
      std::move(rows.begin(), rows.end(), std::back_inserter(box->rows));
    } else {
      box->rows.insert(box->rows.end(), rows.begin(), rows.end());
    }
    wake(*box);
  }
  return !matching.empty();
}

}  // namespace

void identify_connection(soci::session& sql) {
  const std::string& id = process_id();
  sql << "SELECT set_config('bazaar.process', :id, false)", soci::use(id, "id");
}

void ring_relays() {
  Bells& b = bells();
  const std::lock_guard lock(b.mutex);
  for (RelayMailbox* box : b.boxes) {
    box->scan = true;
    wake(*box);
  }
}

OutboxWriter::OutboxWriter(soci::session& sql, const SchemaRegistry& schemas, Write when)
    : sql_(sql), schemas_(schemas), when_(when) {}

OutboxWriter::~OutboxWriter() {
  if (!queued_.empty() && std::uncaught_exceptions() == 0) {
    spdlog::error("{} outbox rows were never flushed: their transaction must not commit",
                  queued_.size());
  }
}

void OutboxWriter::add(const std::string& topic, const Envelope& e) {
  if (auto valid = schemas_.validate(e.type, e.data); !valid) {
    throw std::logic_error("outgoing " + e.type + " breaks its schema: " + valid.error().message);
  }
  boost::json::object headers;
  for (const auto& [name, value] : to_headers(e)) headers[name] = value;
  Row row{e.id, topic, e.subject, e.type, encode_payload(e), boost::json::serialize(headers)};
  if (when_ == Write::at_once) {
    keep(kInsertOutbox.query(
        sql_, {&row.id, &row.topic, &row.key, &row.type, &row.payload, &row.headers}));
  } else {
    queued_.push_back(std::move(row));
  }
  ++added_;
}

void OutboxWriter::flush() {
  write(nullptr);
}

void OutboxWriter::commit(Transaction& tx) {
  if (queued_.empty()) {
    forget_if_failed();
    tx.commit();
  } else {
    write(&tx);  // a failed transaction fails its insert
  }
  handed_over();
}

void OutboxWriter::commit(soci::transaction& tx) {
  forget_if_failed();
  tx.commit();
  handed_over();
}

void OutboxWriter::forget_if_failed() {
  if (PQtransactionStatus(native(sql_)) == PQTRANS_INERROR) written_.clear();
}

void OutboxWriter::write(Transaction* committing) {
  if (queued_.empty()) return;
  const PreparedStatement* statement = &kInsertOutbox;
  std::vector<const std::string*> values;
  std::string rows;
  if (queued_.size() == 1) {
    const Row& r = queued_.front();
    values = {&r.id, &r.topic, &r.key, &r.type, &r.payload, &r.headers};
  } else {
    rows = "[";
    for (const Row& r : queued_) {
      if (rows.size() > 1) rows += ',';
      rows += R"({"id":)";
      rows += boost::json::serialize(boost::json::string_view(r.id));
      rows += R"(,"topic":)";
      rows += boost::json::serialize(boost::json::string_view(r.topic));
      rows += R"(,"key":)";
      rows += boost::json::serialize(boost::json::string_view(r.key));
      rows += R"(,"type":)";
      rows += boost::json::serialize(boost::json::string_view(r.type));
      rows += R"(,"payload":)";
      rows += r.payload;
      rows += R"(,"headers":)";
      rows += r.headers;
      rows += '}';
    }
    rows += ']';
    statement = &kInsertOutboxRows;
    values = {&rows};
  }
  keep(committing != nullptr ? statement->query_committing(*committing, values)
                             : statement->query(sql_, values));
  queued_.clear();
}

void OutboxWriter::keep(const PreparedRows& rows) {
  for (int i = 0; i < rows.size(); ++i) {
    written_.push_back(
        {rows.integer(i, 0), rows.text(i, 1), rows.text(i, 2), rows.text(i, 3), rows.text(i, 4)});
  }
}

void OutboxWriter::handed_over() {
  if (written_.empty()) return;
  // No relay of this process holds the lease of this database: the trigger sent no NOTIFY if
  // this process holds it all the same (its relay reconnecting), so a read must find them.
  if (!hand_over(database_of(sql_), written_)) ring_relays();
  written_.clear();
}

OutboxRelay::OutboxRelay(RelaySettings settings, Producer& producer, Metrics* metrics)
    : settings_(std::move(settings)),
      producer_(producer),
      metrics_(metrics),
      db_(settings_.db_url) {
  const SystemClock clock;
  holder_ = UuidV7Generator(clock, system_random()).next().str();
  bell_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (bell_ < 0) throw std::system_error(errno, std::generic_category(), "outbox relay eventfd");
  mailbox_ = std::make_unique<RelayMailbox>();
  mailbox_->bell = bell_;
  Bells& b = bells();
  const std::lock_guard lock(b.mutex);
  b.boxes.push_back(mailbox_.get());
}

OutboxRelay::~OutboxRelay() {
  Bells& b = bells();
  {
    const std::lock_guard lock(b.mutex);
    std::erase(b.boxes, mailbox_.get());
  }
  ::close(bell_);
}

bool OutboxRelay::acquire() {
  // The holder renews a third of the way into its lease, so one slow pass cannot lose it.
  const auto now = std::chrono::steady_clock::now();
  if (locked_ && now - renewed_ < settings_.lease / 3) return true;
  soci::session& sql = db_.session();
  const std::string& holder = holder_;
  const std::string& process = process_id();
  const long long ms = settings_.lease.count();
  long long kept_floor = 0;
  sql << kTakeLease, soci::use(holder, "holder"), soci::use(process, "process"),
      soci::use(ms, "ms"), soci::into(kept_floor);
  const bool held = sql.got_data();
  if (!held) {
    if (locked_) spdlog::warn("outbox relay lost its lease to another instance");
    locked_ = false;
    forget_database();
    mark_waiting();  // published all the same: the new holder need not send them again
    return false;
  }
  renewed_ = now;
  // A lease row created again, or an outbox numbered again, starts lower than this relay's.
  if (locked_ && kept_floor < floor_.value()) floor_.reset(kept_floor);
  if (locked_) return true;
  // Another holder published meanwhile: start from the floor it kept.
  floor_.reset(kept_floor);
  sql << "LISTEN bazaar_outbox";
  locked_ = true;
  scan_ = true;
  {
    Bells& b = bells();
    const std::lock_guard lock(b.mutex);
    mailbox_->database = database_of(sql);
  }
  spdlog::info("outbox relay holds the lease of its database");
  purge();
  return true;
}

void OutboxRelay::forget_database() {
  Bells& b = bells();
  const std::lock_guard lock(b.mutex);
  mailbox_->database.clear();
  mailbox_->rows.clear();
}

std::chrono::milliseconds OutboxRelay::wait_budget() const {
  // Waiting for a NOTIFY must not outlast the time left to renew the lease.
  return std::min(settings_.poll,
                  std::chrono::duration_cast<std::chrono::milliseconds>(settings_.lease / 3));
}

OutboxRelay::Pass OutboxRelay::publish_once() {
  scan_ = true;
  return publish_woken();
}

OutboxRelay::Pass OutboxRelay::publish_woken() {
  std::vector<OutboxRow> handed;
  {
    Bells& b = bells();
    const std::lock_guard lock(b.mutex);
    handed.swap(mailbox_->rows);
    if (mailbox_->scan) scan_ = true;
    mailbox_->scan = false;
  }
  if (!acquire()) return {};  // what was handed is the holder's to publish
  Pass pass;
  if (!handed.empty()) {
    pass = publish_handed(std::move(handed));
    if (pass.failed > 0) return pass;
  }
  if (!scan_) return pass;
  Pass read = publish_read();
  // A failure is retried, and a full batch goes on, by another read.
  scan_ = read.failed > 0 || read.more;
  read.published += pass.published;
  read.handed = pass.handed;
  return read;
}

OutboxRelay::Pass OutboxRelay::publish_handed(std::vector<OutboxRow> rows) {
  std::sort(rows.begin(), rows.end(),
            [](const OutboxRow& a, const OutboxRow& b) { return a.seq < b.seq; });
  // Every row before the next one taken must be published: the floor and the seqs published
  // one after another above it say which are. The first that does not follow is left to a read.
  std::vector<OutboxRow> taken;
  long long next = floor_.value() + 1;
  for (auto& row : rows) {
    if (floor_.known_published(row.seq)) continue;  // a read published it meanwhile
    if (row.seq != next || taken.size() == static_cast<std::size_t>(settings_.batch)) {
      scan_ = true;
      break;
    }
    next = row.seq + 1;
    while (floor_.known_published(next)) ++next;
    taken.push_back(std::move(row));
  }
  Pass pass;
  if (taken.empty()) return pass;
  const std::vector<long long> delivered = send(taken, pass);
  pass.handed = pass.published;
  if (pass.failed > 0) scan_ = true;
  floor_.published(delivered);
  defer_mark(delivered);
  if (metrics_ != nullptr)
    metrics_->outbox_published.Increment(static_cast<double>(pass.published));
  return pass;
}

void OutboxRelay::defer_mark(const std::vector<long long>& delivered) {
  if (delivered.empty()) return;
  if (unmarked_.empty()) unmarked_since_ = std::chrono::steady_clock::now();
  unmarked_.insert(unmarked_.end(), delivered.begin(), delivered.end());
  if (unmarked_.size() >= static_cast<std::size_t>(settings_.batch)) mark_waiting();
}

void OutboxRelay::mark_waiting() {
  if (unmarked_.empty()) return;
  mark(unmarked_);
  unmarked_.clear();
}

std::vector<long long> OutboxRelay::send(std::vector<OutboxRow>& rows, Pass& pass) {
  std::vector<OutgoingRecord> records(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    records[i].topic = std::move(rows[i].topic);
    records[i].key = std::move(rows[i].key);
    records[i].value = std::move(rows[i].payload);
    const boost::json::value headers = boost::json::parse(rows[i].headers);
    for (const auto& [name, value] : headers.as_object()) {
      records[i].headers.emplace_back(std::string(name), std::string(value.as_string()));
    }
  }
  const auto reports = producer_.send(records, settings_.send_timeout);
  // Delivered, not yet marked: a crash here republishes them, and consumers' inboxes absorb it.
  crash_point(crash::kRelayAfterSend);
  // Only confirmed rows are marked. With the gapless idempotent producer a failure stops its
  // partition, so confirmed rows never overtake an unconfirmed one of the same key.
  std::vector<long long> delivered;
  for (std::size_t i = 0; i < reports.size(); ++i) {
    if (reports[i].delivered) {
      delivered.push_back(rows[i].seq);
      ++pass.published;
    } else {
      if (pass.error.empty()) pass.error = reports[i].error;
      ++pass.failed;
    }
  }
  return delivered;
}

std::string OutboxRelay::mark(const std::vector<long long>& delivered) {
  soci::session& sql = db_.session();
  const std::string confirmed = pg_int_array(delivered);
  const long long kept = floor_.value();
  std::string mark_xid;
  sql << kMarkPublished, soci::use(confirmed, "seqs"), soci::use(kept, "floor"),
      soci::use(holder_, "holder"), soci::use(kept, "new_floor"), soci::into(mark_xid);
  crash_point(crash::kRelayAfterMark);
  return mark_xid;
}

OutboxRelay::Pass OutboxRelay::publish_read() {
  // A read must not find rows published but not marked yet: it would publish them again.
  mark_waiting();
  Pass pass;
  soci::session& sql = db_.session();
  const long long floor = floor_.value();
  const auto n = static_cast<std::size_t>(settings_.batch);
  std::vector<long long> seqs(n);
  std::vector<std::string> topics(n), keys(n), payloads(n), header_texts(n), snapshots(n);
  sql << kSelectBatch, soci::into(seqs), soci::into(topics), soci::into(keys), soci::into(payloads),
      soci::into(header_texts), soci::into(snapshots), soci::use(floor, "floor"),
      soci::use(settings_.batch, "n");
  if (seqs.empty()) {
    if (metrics_ != nullptr) metrics_->outbox_backlog.Set(0);
    return pass;
  }
  const TxSnapshot read = TxSnapshot::parse(snapshots.front());
  std::vector<OutboxRow> rows(seqs.size());
  for (std::size_t i = 0; i < seqs.size(); ++i) {
    rows[i] = {seqs[i], std::move(topics[i]), std::move(keys[i]), std::move(payloads[i]),
               std::move(header_texts[i])};
  }
  const std::vector<long long> delivered = send(rows, pass);
  pass.more = pass.failed == 0 && seqs.size() == n;
  floor_.published(delivered);
  // This pass published every row it could see above the floor, up to the last one it read
  // (all of them when its batch was not full): earlier passes whose transactions have all
  // ended in its snapshot move the floor.
  if (pass.failed == 0) {
    floor_.advance(read, pass.more ? seqs.back() : std::numeric_limits<long long>::max());
  }
  if (pass.published > 0) {
    const std::string mark_xid = mark(delivered);
    if (pass.failed == 0)
      floor_.published_through(seqs.back(), read, TxSnapshot::parse_xid(mark_xid));
  }
  if (metrics_ != nullptr) {
    metrics_->outbox_published.Increment(static_cast<double>(pass.published));
    // Counting the backlog costs a query: only when a full batch says there may be one.
    if (pass.more) {
      long long backlog = 0;
      const long long from = floor_.value();
      sql << kBacklog, soci::into(backlog), soci::use(from, "floor");
      metrics_->outbox_backlog.Set(static_cast<double>(backlog));
    } else {
      metrics_->outbox_backlog.Set(static_cast<double>(pass.failed));
    }
  }
  return pass;
}

void OutboxRelay::purge() {
  soci::session& sql = db_.session();
  const int hours = static_cast<int>(settings_.retention.count());
  long long bound = std::numeric_limits<long long>::max();
  sql << kPurgeBound, soci::use(hours, "h"), soci::into(bound);
  if (!sql.got_data()) bound = std::numeric_limits<long long>::max();
  sql << kPurgeOutbox, soci::use(bound, "bound"), soci::use(hours, "h");
  sql << kPurgeInbox, soci::use(hours, "h");
}

void OutboxRelay::wait_for_notification(std::chrono::milliseconds timeout, bool scan_on_timeout) {
  PGconn* conn = native(db_.session());
  // A NOTIFY that arrived during our own queries is already in libpq's queue, not on the
  // socket: waiting on the socket then would sleep through it.
  if (PQconsumeInput(conn) == 0) {
    throw std::runtime_error(std::string("outbox LISTEN connection: ") + PQerrorMessage(conn));
  }
  // Another writer's NOTIFY, or no wake at all within the timeout, calls for a read; a wake
  // from this process says itself whether it does (its mailbox).
  bool queued = false;
  while (PGnotify* n = PQnotifies(conn)) {
    PQfreemem(n);
    queued = true;
  }
  if (queued) {
    scan_ = true;
    drain_bell(bell_);  // this pass sees whatever rang meanwhile too
    return;
  }
  std::array<pollfd, 2> fds{pollfd{bell_, POLLIN, 0}, pollfd{PQsocket(conn), POLLIN, 0}};
  if (::poll(fds.data(), fds.size(), static_cast<int>(timeout.count())) <= 0) {
    if (scan_on_timeout) scan_ = true;
    return;
  }
  if (fds[0].revents != 0) drain_bell(bell_);
  if (fds[1].revents != 0) {
    if (PQconsumeInput(conn) == 0) {
      throw std::runtime_error(std::string("outbox LISTEN connection: ") + PQerrorMessage(conn));
    }
    while (PGnotify* n = PQnotifies(conn)) {
      PQfreemem(n);
      scan_ = true;
    }
  }
}

void OutboxRelay::run(const std::atomic<bool>& stop) {
  Backoff backoff({.initial = std::chrono::milliseconds{100}, .max = std::chrono::seconds{5}});
  auto next_purge = std::chrono::steady_clock::now() + kPurgeEvery;
  while (!stop.load()) {
    try {
      const Pass pass = publish_woken();
      if (!locked_) {  // another instance relays; check again within a lease
        sleep_unless_stopped(stop, std::min(settings_.poll * 4, wait_budget()));
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
      if (unmarked_.empty()) {
        wait_for_notification(wait_budget());
        continue;
      }
      const auto due = unmarked_since_ + settings_.mark_delay;
      const auto now = std::chrono::steady_clock::now();
      if (now >= due) {
        mark_waiting();
        continue;
      }
      wait_for_notification(
          std::min(wait_budget(), std::chrono::ceil<std::chrono::milliseconds>(due - now)), false);
    } catch (const std::exception& e) {
      // The session is gone or unusable: take (or renew) the lease again once reconnected.
      const auto delay = backoff.next();
      spdlog::warn("outbox relay: {}; reconnecting in {} ms", error_summary(e), delay.count());
      db_.reset();
      locked_ = false;
      forget_database();
      scan_ = true;
      sleep_unless_stopped(stop, delay);
    }
  }
  release();
}

void OutboxRelay::release() {
  if (!locked_) return;
  locked_ = false;
  forget_database();
  try {
    // Every delivered row is marked first: the next instance may take over at once, rather
    // than wait out the lease.
    mark_waiting();
    soci::session& sql = db_.session();
    sql << kReleaseLease, soci::use(holder_, "holder");
  } catch (const std::exception& e) {
    spdlog::warn("outbox relay could not give its lease up ({}); it expires by itself",
                 error_summary(e));
  }
}

}  // namespace bazaar::events
