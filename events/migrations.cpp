#include "events/migrations.hpp"

#include <soci/soci.h>

#include <algorithm>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>

#include "events/db.hpp"

namespace bazaar::events {
namespace {

// Any fixed number works as long as every service uses the same one for migrations.
constexpr long long kMigrationLock = 0x6261'7a61'6172'0001;

constexpr const char* kCreateLedger = R"sql(
CREATE TABLE IF NOT EXISTS schema_migrations (
  component  text        NOT NULL,
  version    integer     NOT NULL,
  name       text        NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (component, version)
))sql";

constexpr const char* kAppliedVersions =
    "SELECT version FROM schema_migrations WHERE component = :component";
constexpr const char* kRecordVersion =
    "INSERT INTO schema_migrations (component, version, name) VALUES (:component, :version, :name)";

// Debezium's outbox event router reads id, aggregatetype (here: the destination topic),
// aggregateid (the record key), type and payload; seq gives the publication order.
constexpr const char* kPlatformSchema = R"sql(
CREATE TABLE outbox (
  seq           bigserial   PRIMARY KEY,
  id            uuid        NOT NULL UNIQUE,
  aggregatetype text        NOT NULL,
  aggregateid   text        NOT NULL,
  type          text        NOT NULL,
  payload       jsonb       NOT NULL,
  headers       jsonb       NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  published_at  timestamptz
);
CREATE INDEX outbox_unpublished ON outbox (seq) WHERE published_at IS NULL;
CREATE INDEX outbox_published_at ON outbox (published_at) WHERE published_at IS NOT NULL;

CREATE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('bazaar_outbox', '');
  RETURN NULL;
END $$;
CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
  FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();

CREATE TABLE inbox (
  consumer        text        NOT NULL,
  ce_id           uuid        NOT NULL,
  ce_type         text        NOT NULL,
  topic           text        NOT NULL,
  kafka_partition integer     NOT NULL,
  kafka_offset    bigint      NOT NULL,
  received_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, ce_id)
);
CREATE INDEX inbox_received_at ON inbox (received_at);
)sql";

// One row: which relay may publish this database's outbox, and until when. The holder renews
// it while it makes progress; a frozen or cut-off holder stops renewing and another instance
// takes over once it expired (a session advisory lock would stay with a frozen process).
constexpr const char* kRelayLease = R"sql(
CREATE TABLE relay_lease (
  id         smallint    PRIMARY KEY CHECK (id = 1),
  holder     uuid        NOT NULL,
  expires_at timestamptz NOT NULL
);
)sql";

// Keys of a partition whose record was dead-lettered: later records of the key wait behind it
// (parked in the dead-letter topic too) until a redrive of the key releases it. A table, so a
// restart keeps the order.
constexpr const char* kQuarantine = R"sql(
CREATE TABLE quarantined_keys (
  consumer        text        NOT NULL,
  topic           text        NOT NULL,
  kafka_partition integer     NOT NULL,
  record_key      text        NOT NULL,
  first_record    text        NOT NULL,
  since           timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, topic, kafka_partition, record_key)
);
)sql";

// The relay of the process holding the lease is woken in-process after its own commits
// (OutboxWriter::handed_over(), ring_relays()); only other writers (another instance, an operator's
// session) NOTIFY it. Every connection of a service names its process in `bazaar.process`
// (identify_connection()).
constexpr const char* kWakeInProcess = R"sql(
ALTER TABLE relay_lease ADD COLUMN process uuid;
CREATE OR REPLACE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM relay_lease
                 WHERE id = 1 AND process::text = current_setting('bazaar.process', true)) THEN
    PERFORM pg_notify('bazaar_outbox', '');
  END IF;
  RETURN NULL;
END $$;
)sql";

// The relay's floor (RelayFloor) rests on a row's transaction having its id before the row takes
// its seq: the default asks for the id first (CASE evaluates its condition before its result).
// With the floor exact, no pass needs an index of unpublished rows, and with `published_at` in
// no index the relay's mark is a HOT update, in the free room fillfactor leaves on each page.
// Purges walk the primary key from the oldest row.
constexpr const char* kRelayFloor = R"sql(
ALTER TABLE outbox ALTER COLUMN seq SET DEFAULT
  CASE WHEN pg_current_xact_id() IS NOT NULL THEN nextval('outbox_seq_seq'::regclass) END;
DROP INDEX outbox_unpublished;
DROP INDEX outbox_published_at;
ALTER TABLE outbox SET (fillfactor = 50);
ALTER TABLE relay_lease ADD COLUMN floor bigint NOT NULL DEFAULT 0;
)sql";

// The floor counts seqs as the sequence hands them out, one at a time (a cached block would
// hand a lower seq out after a higher one). An outbox emptied and numbered again starts with
// no floor: the trigger resets it in the same transaction.
constexpr const char* kFloorGuards = R"sql(
ALTER SEQUENCE outbox_seq_seq CACHE 1;
CREATE FUNCTION outbox_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE relay_lease SET floor = 0;
  RETURN NULL;
END $$;
CREATE TRIGGER outbox_truncated AFTER TRUNCATE ON outbox
  FOR EACH STATEMENT EXECUTE FUNCTION outbox_truncated();
)sql";

}  // namespace

std::vector<Migration> load_migrations(const std::filesystem::path& dir) {
  std::vector<Migration> out;
  if (!std::filesystem::is_directory(dir)) return out;
  static const std::regex kName(R"(^(\d{3,})_([A-Za-z0-9_]+)\.sql$)");
  std::set<int> versions;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    const std::string file = entry.path().filename().string();
    std::smatch m;
    if (!std::regex_match(file, m, kName)) {
      throw std::runtime_error("migration file not named NNN_name.sql: " + entry.path().string());
    }
    Migration migration{std::stoi(m[1].str()), m[2].str(), {}};
    if (!versions.insert(migration.version).second) {
      throw std::runtime_error("two migrations share version " + m[1].str() + " in " +
                               dir.string());
    }
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    migration.sql = text.str();
    out.push_back(std::move(migration));
  }
  std::sort(out.begin(), out.end(),
            [](const Migration& a, const Migration& b) { return a.version < b.version; });
  return out;
}

const std::vector<Migration>& platform_migrations() {
  static const std::vector<Migration> kAll{
      {1, "outbox_inbox", kPlatformSchema}, {2, "relay_lease", kRelayLease},
      {3, "quarantined_keys", kQuarantine}, {4, "outbox_wake_in_process", kWakeInProcess},
      {5, "relay_floor", kRelayFloor},      {6, "relay_floor_guards", kFloorGuards}};
  return kAll;
}

int migrate(Database& db, const std::string& component, const std::vector<Migration>& migrations) {
  soci::session& sql = db.session();
  sql << "SELECT pg_advisory_lock(:k)", soci::use(kMigrationLock, "k");
  int applied = 0;
  try {
    db.exec_script(kCreateLedger);
    std::vector<int> done(1000);
    sql << kAppliedVersions, soci::into(done), soci::use(component, "component");
    const std::set<int> known(done.begin(), done.end());
    for (const auto& m : migrations) {
      if (known.contains(m.version)) continue;
      soci::transaction tx(sql);
      db.exec_script(m.sql);
      sql << kRecordVersion, soci::use(component, "component"), soci::use(m.version, "version"),
          soci::use(m.name, "name");
      tx.commit();
      ++applied;
    }
  } catch (...) {
    sql << "SELECT pg_advisory_unlock(:k)", soci::use(kMigrationLock, "k");
    throw;
  }
  sql << "SELECT pg_advisory_unlock(:k)", soci::use(kMigrationLock, "k");
  return applied;
}

}  // namespace bazaar::events
