// The transactional outbox against the real broker and PostgreSQL: every row is published,
// in order per key, once its transaction commits, and a relay killed mid-batch loses nothing.
#include <doctest/doctest.h>
#include <libpq-fe.h>
#include <signal.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include <boost/json/parse.hpp>
#include <map>
#include <set>
#include <thread>

#include "events/crash_points.hpp"
#include "events/db.hpp"
#include "events/migrations.hpp"
#include "events/outbox.hpp"
#include "fixture.hpp"

using namespace bazaar;
using namespace bazaar::tests;
using namespace std::chrono_literals;

namespace {

// Writes `per_key` Probe events for each of `keys` keys, interleaved, `per_tx` to a transaction.
std::set<std::string> fill_outbox(
    Platform& p, soci::session& sql, const std::string& topic, int keys, int per_key, int per_tx,
    int first_seq = 0, events::OutboxWriter::Write when = events::OutboxWriter::Write::at_once) {
  std::set<std::string> ids;
  int in_tx = 0;
  auto tx = std::make_unique<soci::transaction>(sql);
  events::OutboxWriter outbox(sql, p.schemas, when);
  for (int seq = first_seq; seq < first_seq + per_key; ++seq) {
    for (int k = 0; k < keys; ++k) {
      const auto e = probe_event(p.factory, "key-" + std::to_string(k), seq);
      outbox.add(topic, e);
      ids.insert(e.id);
      if (++in_tx == per_tx) {
        outbox.flush();
        tx->commit();
        tx = std::make_unique<soci::transaction>(sql);
        in_tx = 0;
      }
    }
  }
  outbox.flush();
  tx->commit();
  return ids;
}

// Checks that, read in partition order, each key's sequence numbers never go back.
void check_order_per_key(const std::vector<ConsumedRecord>& records) {
  std::map<std::string, long long> last;
  for (const auto& r : records) {
    const auto seq = boost::json::parse(r.value).at("seq").as_int64();
    auto [it, fresh] = last.try_emplace(r.key, seq);
    if (!fresh) {
      REQUIRE_MESSAGE(seq > it->second,
                      "key " << r.key << " went from " << it->second << " to " << seq);
      it->second = seq;
    }
  }
}

// A relay on its own thread that waits 40 s between wakes (a third of its lease): only a wake
// publishes within a test's 10 s.
class WakeOnlyRelay {
 public:
  explicit WakeOnlyRelay(Platform& p, std::chrono::milliseconds mark_delay = 100ms)
      : relay_({.db_url = p.db_url, .poll = 120s, .lease = 120s, .mark_delay = mark_delay},
               p.producer),
        worker_([this] { relay_.run(stop_); }) {}
  ~WakeOnlyRelay() {
    stop_.store(true);
    events::ring_relays();  // rather than wait out the 40 s
    worker_.join();
  }
  WakeOnlyRelay(const WakeOnlyRelay&) = delete;
  WakeOnlyRelay& operator=(const WakeOnlyRelay&) = delete;

 private:
  events::OutboxRelay relay_;
  std::atomic<bool> stop_{false};
  std::thread worker_;
};

}  // namespace

TEST_CASE("outbox rows are published exactly once and in order per key") {
  MESSAGE("broker: Apache Kafka " << required_env("BAZAAR_KAFKA_VERSION") << " at "
                                  << required_env("BAZAAR_KAFKA_BROKERS"));
  Platform p;
  auto sql = clean_test_database();
  const std::string topic = unique_name("itest.outbox");
  create_topic(topic, 6);

  auto when = events::OutboxWriter::Write::at_once;
  SUBCASE("each row written as it is added") {}
  SUBCASE("a transaction's rows written together before its commit") {
    when = events::OutboxWriter::Write::at_flush;
  }
  const auto ids = fill_outbox(p, *sql, topic, 12, 50, 25, 0, when);  // two or three per key
  REQUIRE(count(*sql, "SELECT count(*) FROM outbox WHERE published_at IS NULL") == 600);
  // Rows are numbered in the order they were added, whichever way they were written.
  CHECK(count(*sql, R"sql(
    SELECT count(*) FROM (
      SELECT seq, lag(CAST(payload->>'seq' AS int)) OVER (PARTITION BY aggregateid ORDER BY seq)
               AS before, CAST(payload->>'seq' AS int) AS now FROM outbox) AS s
    WHERE s.before >= s.now)sql") == 0);

  events::OutboxRelay relay({.db_url = p.db_url, .batch = 64, .poll = 200ms}, p.producer,
                            &p.metrics);
  std::atomic<bool> stop{false};
  std::thread worker([&] { relay.run(stop); });
  const bool drained = wait_until(30s, [&] {
    return count(*sql, "SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0;
  });
  CHECK(drained);

  // Rows committed while the relay waits are woken by NOTIFY, not only by polling.
  const auto more = fill_outbox(p, *sql, topic, 12, 1, 12, 50);
  CHECK(wait_until(10s, [&] {
    return count(*sql, "SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0;
  }));
  stop.store(true);
  worker.join();

  const auto records = read_topic(topic, 612, 30s);
  REQUIRE(records.size() == 612);  // exactly once: no copy without a crash
  std::set<std::string> seen;
  for (const auto& r : records) {
    CHECK(r.header("ce_specversion") == "1.0");
    CHECK(r.header("ce_type") == "bazaar.test.Probe.v1");
    CHECK(r.header("ce_subject") == r.key);
    seen.insert(r.header("ce_id"));
  }
  std::set<std::string> expected = ids;
  expected.insert(more.begin(), more.end());
  CHECK(seen == expected);
  check_order_per_key(records);
  CHECK(p.metrics.outbox_published.Value() == 612);
}

TEST_CASE(
    "the lease holder's own commits wake its relay in-process, any other writer's by NOTIFY") {
  Platform p;
  auto sql = clean_test_database();  // a connection that names no process: an operator's
  const std::string topic = unique_name("itest.outbox.wake");
  create_topic(topic, 1);
  auto unpublished = [&] {
    return count(*sql, "SELECT count(*) FROM outbox WHERE published_at IS NULL");
  };

  WakeOnlyRelay relay(p);
  REQUIRE(wait_until(30s, [&] { return count(*sql, "SELECT count(*) FROM relay_lease") == 1; }));

  auto listener = connect_test_database();
  PGconn* conn = static_cast<soci::postgresql_session_backend*>(listener->get_backend())->conn_;
  *listener << "LISTEN bazaar_outbox";
  *listener << "LISTEN itest_marker";
  // The payloads NOTIFYed on bazaar_outbox before `marker` came on a channel the relay does not
  // hear: one queue carries every channel's notifications in commit order.
  auto notified_until = [&](const std::string& marker) {
    *sql << "SELECT pg_notify('itest_marker', :m)", soci::use(marker, "m");
    std::vector<std::string> payloads;
    const bool seen = wait_until(10s, [&] {
      PQconsumeInput(conn);
      while (PGnotify* n = PQnotifies(conn)) {
        payloads.emplace_back(n->extra);
        PQfreemem(n);
      }
      return !payloads.empty() && payloads.back() == marker;
    });
    REQUIRE_MESSAGE(seen, "the marker NOTIFY never arrived");
    payloads.pop_back();
    return payloads;
  };

  // A connection of this process (events::Database names it) commits a row: no NOTIFY, and
  // ring_relays() wakes the relay.
  events::Database own(p.db_url);
  fill_outbox(p, own.session(), topic, 1, 1, 1);
  CHECK(notified_until("after own commit").empty());
  events::ring_relays();
  CHECK(wait_until(10s, [&] { return unpublished() == 0; }));

  // Any other connection's insert NOTIFYs, and that alone wakes the relay.
  fill_outbox(p, *sql, topic, 1, 1, 1, 1);
  CHECK(notified_until("after other commit") == std::vector<std::string>{""});
  CHECK(wait_until(10s, [&] { return unpublished() == 0; }));
  CHECK(read_topic(topic, 2, 30s).size() == 2);
}

TEST_CASE(
    "the floor never passes a row whose transaction is still open, and that row is "
    "published by the first pass after its commit") {
  Platform p;
  auto sql = clean_test_database();
  const std::string topic = unique_name("itest.outbox.late");
  create_topic(topic, 1);
  events::OutboxRelay relay({.db_url = p.db_url}, p.producer);
  auto kept_floor = [&] { return count(*sql, "SELECT floor FROM relay_lease"); };

  // A transaction takes seq 1 as its first write and stays open while later ones commit.
  events::Database other(p.db_url);
  auto late_tx = std::make_unique<soci::transaction>(other.session());
  events::OutboxWriter late_writer(other.session(), p.schemas);
  late_writer.add(topic, probe_event(p.factory, "late", 0));
  for (int i = 1; i <= 4; ++i) {
    fill_outbox(p, *sql, topic, 1, 1, 1, i);
    CHECK(relay.publish_once().published == 1);
  }
  CHECK(relay.publish_once().published == 0);
  CHECK(kept_floor() == 0);  // every pass saw the open transaction running

  late_tx->commit();
  CHECK(relay.publish_once().published == 1);  // no wait for a periodic scan
  // A pass that sees the late transaction ended moves the floor past every row published (a
  // transaction of another database, running at both snapshots, may hold it for a pass more).
  int written = 5;
  CHECK(wait_until(10s, [&] {
    fill_outbox(p, *sql, topic, 1, 1, 1, written++);
    CHECK(relay.publish_once().published == 1);
    return kept_floor() >= 5;
  }));
  CHECK(count(*sql, "SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0);
  CHECK(read_topic(topic, static_cast<std::size_t>(written), 30s).size() ==
        static_cast<std::size_t>(written));
}

TEST_CASE(
    "rows a writer of this process hands over are published without a read when nothing "
    "unpublished comes before them") {
  Platform p;
  auto sql = clean_test_database();
  const std::string topic = unique_name("itest.outbox.handed");
  create_topic(topic, 1);
  events::OutboxRelay relay({.db_url = p.db_url}, p.producer);
  auto kept_floor = [&] { return count(*sql, "SELECT floor FROM relay_lease"); };
  CHECK(relay.publish_once().published == 0);  // takes the lease: its mailbox opens
  events::Database own(p.db_url);
  int next_seq = 0;
  // One transaction of `rows` rows, committed; handed over by commit() unless `hand` is false,
  // when the writer, returned, hands them over later.
  auto commit_rows = [&](int rows, bool hand = true) {
    soci::transaction tx(own.session());
    auto outbox = std::make_unique<events::OutboxWriter>(own.session(), p.schemas);
    for (int i = 0; i < rows; ++i) {
      outbox->add(topic, probe_event(p.factory, "key-" + std::to_string(next_seq), next_seq));
      ++next_seq;
    }
    if (hand) {
      outbox->commit(tx);
    } else {
      tx.commit();
    }
    return outbox;
  };

  commit_rows(3);  // seqs 1 to 3
  auto pass = relay.publish_once();
  CHECK(pass.published == 3);
  CHECK(pass.handed == 3);
  CHECK(kept_floor() == 3);

  // Seq 4 is taken by a transaction still open: the rows after it wait for a read, which
  // publishes them but cannot move the floor past 4.
  events::Database other(p.db_url);
  auto late_tx = std::make_unique<soci::transaction>(other.session());
  events::OutboxWriter late_writer(other.session(), p.schemas);
  late_writer.add(topic, probe_event(p.factory, "late", 0));
  const auto unhanded = commit_rows(2, false);  // seqs 5 and 6
  pass = relay.publish_once();
  CHECK(pass.published == 2);
  CHECK(pass.handed == 0);
  CHECK(kept_floor() == 3);

  // 4 commits and comes with 5 and 6 handed over late, and 7: 4 follows the floor, 5 and 6
  // are known published and skipped, 7 follows them. The floor moves over all of them.
  late_writer.commit(*late_tx);
  unhanded->handed_over();
  commit_rows(1);  // seq 7
  pass = relay.publish_once();
  CHECK(pass.published == 2);
  CHECK(pass.handed == 2);
  CHECK(kept_floor() == 7);

  CHECK(count(*sql, "SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0);
  const auto records = read_topic(topic, 7, 30s);
  CHECK(records.size() == 7);  // each once
  std::set<std::string> ids;
  for (const auto& r : records) ids.insert(r.header("ce_id"));
  CHECK(ids.size() == 7);
}

TEST_CASE("a running relay woken with handed rows that cannot go without a read reads at once") {
  Platform p;
  auto sql = clean_test_database();
  const std::string topic = unique_name("itest.outbox.woken");
  create_topic(topic, 1);
  auto unpublished = [&] {
    return count(*sql, "SELECT count(*) FROM outbox WHERE published_at IS NULL");
  };
  WakeOnlyRelay relay(p);
  REQUIRE(wait_until(30s, [&] { return count(*sql, "SELECT count(*) FROM relay_lease") == 1; }));

  events::Database own(p.db_url);
  auto commit_one = [&](events::Database& db, const std::string& key) {
    auto tx = std::make_unique<soci::transaction>(db.session());
    auto outbox = std::make_unique<events::OutboxWriter>(db.session(), p.schemas);
    outbox->add(topic, probe_event(p.factory, key, 0));
    return std::make_pair(std::move(tx), std::move(outbox));
  };
  // The first row's transaction stays open: the second, handed over, does not follow the floor.
  events::Database other(p.db_url);
  auto [open_tx, open_writer] = commit_one(other, "open");
  auto [tx, writer] = commit_one(own, "handed");
  writer->commit(*tx);
  CHECK(wait_until(10s, [&] { return unpublished() == 0; }));  // read, not the 40 s poll
  open_writer->commit(*open_tx);
  CHECK(wait_until(10s, [&] { return unpublished() == 0; }));  // handed, and follows the floor
  CHECK(wait_until(10s, [&] { return count(*sql, "SELECT floor FROM relay_lease") == 2; }));
  CHECK(read_topic(topic, 2, 30s).size() == 2);
}

TEST_CASE(
    "rows published without a read are marked together later, and a read never sends them "
    "again") {
  Platform p;
  auto sql = clean_test_database();
  const std::string topic = unique_name("itest.outbox.marks");
  create_topic(topic, 1);
  auto unpublished = [&] {
    return count(*sql, "SELECT count(*) FROM outbox WHERE published_at IS NULL");
  };
  WakeOnlyRelay relay(p, 60s);
  REQUIRE(wait_until(30s, [&] { return count(*sql, "SELECT count(*) FROM relay_lease") == 1; }));
  events::Database own(p.db_url);
  for (int i = 0; i < 3; ++i) {
    soci::transaction tx(own.session());
    events::OutboxWriter writer(own.session(), p.schemas);
    writer.add(topic, probe_event(p.factory, "handed", i));
    writer.commit(tx);
  }
  REQUIRE(read_topic(topic, 3, 30s).size() == 3);
  CHECK(unpublished() == 3);  // published, their marks wait (60 s)
  // A row committed without handing it over is read: the read marks the waiting rows first, so
  // it finds only the new one.
  {
    soci::transaction tx(own.session());
    events::OutboxWriter writer(own.session(), p.schemas);
    writer.add(topic, probe_event(p.factory, "read", 0));
    tx.commit();
  }
  events::ring_relays();                                       // a wake that asks for a read
  CHECK(wait_until(10s, [&] { return unpublished() == 0; }));  // long before the 60 s
  CHECK(read_topic(topic, 5, 3s).size() == 4);
}

TEST_CASE("an outbox row's transaction has its id before the row takes its seq") {
  // The floor's proof needs it: a trigger that runs after the row's defaults were computed and
  // before it is stored refuses a row whose transaction has no id yet.
  Platform p;
  auto sql = clean_test_database();
  struct Guard {
    soci::session& sql;
    ~Guard() {
      sql << "DROP TRIGGER IF EXISTS itest_xid_first ON outbox";
      sql << "DROP FUNCTION IF EXISTS itest_xid_first()";
    }
  } guard{*sql};
  *sql << R"sql(
    CREATE FUNCTION itest_xid_first() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF pg_current_xact_id_if_assigned() IS NULL THEN
        RAISE EXCEPTION 'seq % taken before the transaction had an id', NEW.seq;
      END IF;
      RETURN NEW;
    END $$)sql";
  *sql << "CREATE TRIGGER itest_xid_first BEFORE INSERT ON outbox "
          "FOR EACH ROW EXECUTE FUNCTION itest_xid_first()";
  // Both ways of writing, each as the first write of its transaction.
  fill_outbox(p, *sql, unique_name("itest.xid"), 1, 1, 1, 0, events::OutboxWriter::Write::at_once);
  fill_outbox(p, *sql, unique_name("itest.xid"), 1, 3, 3, 0, events::OutboxWriter::Write::at_flush);
  CHECK(count(*sql, "SELECT count(*) FROM outbox") == 4);
  // The trigger itself refuses what the default used to do.
  CHECK_THROWS(sql->once << R"sql(
    INSERT INTO outbox (seq, id, aggregatetype, aggregateid, type, payload, headers)
    VALUES (nextval('outbox_seq_seq'), gen_random_uuid(), 't', 'k', 'x', '{}', '{}'))sql");
}

TEST_CASE(
    "a relay starts from the floor kept in the lease row, or from the start of an outbox "
    "numbered again") {
  Platform p;
  auto sql = clean_test_database();
  const std::string topic = unique_name("itest.outbox.kept");
  create_topic(topic, 1);
  auto kept_floor = [&] { return count(*sql, "SELECT floor FROM relay_lease"); };
  fill_outbox(p, *sql, topic, 1, 3, 1);
  int written = 3;
  {
    events::OutboxRelay first({.db_url = p.db_url}, p.producer);
    CHECK(first.publish_once().published == 3);
    // The floor moves once a later pass saw the first one's transactions ended.
    CHECK(wait_until(10s, [&] {
      fill_outbox(p, *sql, topic, 1, 1, 1, written++);
      CHECK(first.publish_once().published == 1);
      return kept_floor() >= 3;
    }));
  }
  // The lease of the first has not expired: let it, as after a crash.
  *sql << "UPDATE relay_lease SET expires_at = clock_timestamp() - interval '1 second'";
  // Rows below the kept floor that look unpublished stay as they are: the floor says every
  // one of them went out.
  *sql << "UPDATE outbox SET published_at = NULL WHERE seq = 1";
  fill_outbox(p, *sql, topic, 1, 1, 1, written++);
  {
    events::OutboxRelay second({.db_url = p.db_url}, p.producer);
    CHECK(second.publish_once().published == 1);  // the new row alone
    CHECK(second.publish_once().published == 0);
  }
  CHECK(count(*sql, "SELECT count(*) FROM outbox WHERE published_at IS NULL") == 1);
  CHECK(read_topic(topic, static_cast<std::size_t>(written), 30s).size() ==
        static_cast<std::size_t>(written));

  // The outbox emptied and numbered from 1 again, past the old floor before a relay looks:
  // the TRUNCATE itself reset the floor.
  const long long old_floor = kept_floor();
  *sql << "TRUNCATE outbox RESTART IDENTITY";
  CHECK(kept_floor() == 0);
  *sql << "UPDATE relay_lease SET expires_at = clock_timestamp() - interval '1 second'";
  const int again = static_cast<int>(old_floor) + 2;
  fill_outbox(p, *sql, topic, 1, again, again, written);
  events::OutboxRelay third({.db_url = p.db_url}, p.producer);
  CHECK(third.publish_once().published == static_cast<std::size_t>(again));
  CHECK(read_topic(topic, static_cast<std::size_t>(written + again), 30s).size() ==
        static_cast<std::size_t>(written + again));
}

TEST_CASE("only one relay per database publishes at a time") {
  Platform p;
  auto sql = clean_test_database();
  events::OutboxRelay first({.db_url = p.db_url}, p.producer);
  events::OutboxRelay second({.db_url = p.db_url}, p.producer);
  (void)first.publish_once();
  (void)second.publish_once();
  CHECK(first.holds_lock());
  CHECK_FALSE(second.holds_lock());
}

TEST_CASE("a relay that stops gives its lease up, and the next instance takes over at once") {
  Platform p;
  auto sql = clean_test_database();
  {
    WakeOnlyRelay stopping(p);  // its lease lasts 120 s
    REQUIRE(wait_until(30s, [&] { return count(*sql, "SELECT count(*) FROM relay_lease") == 1; }));
  }
  events::OutboxRelay next({.db_url = p.db_url}, p.producer);
  (void)next.publish_once();
  CHECK(next.holds_lock());
}

TEST_CASE("a frozen relay holder loses its lease and another instance publishes the outbox") {
  Platform p;
  auto sql = clean_test_database();
  const std::string topic = unique_name("itest.relayfreeze");
  create_topic(topic, 3);
  const std::string log_dir = required_env("BAZAAR_RUN_DIR");
  const std::map<std::string, std::string> env{
      {"BAZAAR_PROBE_DB", p.db_url},
      {"BAZAAR_SCHEMAS_DIR", BAZAAR_TEST_SCHEMAS_DIR},
      {"BAZAAR_PROBE_MIGRATIONS_DIR", BAZAAR_PROBE_MIGRATIONS_DIR},
      {"BAZAAR_RELAY_LEASE_MS", "1000"}};
  auto holder_id = [&] {
    std::string id;
    soci::indicator ind = soci::i_null;
    *sql << "SELECT holder::text FROM relay_lease WHERE expires_at > clock_timestamp()",
        soci::into(id, ind);
    return sql->got_data() && ind == soci::i_ok ? id : std::string{};
  };
  ChildProcess first(BAZAAR_PROBE_BINARY, {}, env, log_dir + "/probe-freeze-1.log");
  std::string frozen_holder;
  REQUIRE(wait_until(30s, [&] { return !(frozen_holder = holder_id()).empty(); }));
  const std::uint16_t second_admin = free_port();
  ChildProcess second(BAZAAR_PROBE_BINARY, {"--admin-port", std::to_string(second_admin)}, env,
                      log_dir + "/probe-freeze-2.log");
  REQUIRE(wait_until(30s, [&] { return http_get(second_admin, "/health/ready").first == 200; }));
  CHECK(holder_id() == frozen_holder);  // the first one still holds it while it runs

  first.signal(SIGSTOP);  // alive, connected, and doing nothing: its TCP session stays open
  const auto ids = fill_outbox(p, *sql, topic, 4, 25, 10);
  CHECK(wait_until(30s, [&] {
    return count(*sql, "SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0;
  }));
  const std::string taker = holder_id();
  CHECK_FALSE(taker.empty());
  CHECK(taker != frozen_holder);

  // Thawed, the old holder finds the lease gone and leaves publishing to the new one.
  first.signal(SIGCONT);
  const auto more = fill_outbox(p, *sql, topic, 4, 1, 4, 25);
  CHECK(wait_until(30s, [&] {
    return count(*sql, "SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0;
  }));
  CHECK(holder_id() == taker);
  const auto records = read_topic(topic, ids.size() + more.size(), 30s);
  std::set<std::string> seen;
  for (const auto& r : records) seen.insert(r.header("ce_id"));
  std::set<std::string> expected = ids;
  expected.insert(more.begin(), more.end());
  CHECK(seen == expected);
  first.signal(SIGTERM);
  second.signal(SIGTERM);
  CHECK(first.wait(20s) == 0);
  CHECK(second.wait(20s) == 0);
}

TEST_CASE("a relay killed mid-batch loses nothing and the inbox absorbs its copies") {
  Platform p;
  auto sql = clean_test_database();
  const std::string topic = unique_name("itest.relaykill");
  const std::string group = unique_name("itest-relaykill");
  create_topic(topic, 6);
  const int keys = 12;
  const int per_key = 500;
  const auto ids = fill_outbox(p, *sql, topic, keys, per_key, 100);
  const long long total = keys * per_key;

  const std::string log_dir = required_env("BAZAAR_RUN_DIR");
  const std::map<std::string, std::string> env{
      {"BAZAAR_PROBE_DB", p.db_url},
      {"BAZAAR_SCHEMAS_DIR", BAZAAR_TEST_SCHEMAS_DIR},
      {"BAZAAR_PROBE_MIGRATIONS_DIR", BAZAAR_PROBE_MIGRATIONS_DIR},
      {"BAZAAR_RELAY_BATCH", "50"}};
  {
    ChildProcess relay(BAZAAR_PROBE_BINARY, {}, env, log_dir + "/probe-relay-1.log");
    const bool started = wait_until(30s, [&] {
      return count(*sql, "SELECT count(*) FROM outbox WHERE published_at IS NOT NULL") >= 500;
    });
    relay.signal(SIGKILL);
    REQUIRE(started);
    CHECK(relay.wait(10s) == 128 + SIGKILL);
  }
  const long long left = count(*sql, "SELECT count(*) FROM outbox WHERE published_at IS NULL");
  MESSAGE("relay killed with " << left << " of " << total << " rows unpublished");
  REQUIRE(left > 0);  // the kill landed mid-stream, or this test proves nothing
  // Whether the kill fell between a delivery and its mark is luck; make it certain for the
  // last rows it published, as if it had died just before marking them: unmarked, and the
  // floor kept in the same statement as their marks no higher than before them.
  sql->once << R"sql(
    WITH last AS (
      SELECT seq FROM outbox WHERE published_at IS NOT NULL ORDER BY seq DESC LIMIT 100),
    unmarked AS (
      UPDATE outbox SET published_at = NULL WHERE seq IN (SELECT seq FROM last))
    UPDATE relay_lease SET floor = LEAST(floor, (SELECT min(seq) - 1 FROM last)))sql";

  {
    const std::uint16_t admin_port = free_port();
    ChildProcess relay(BAZAAR_PROBE_BINARY, {"--admin-port", std::to_string(admin_port)}, env,
                       log_dir + "/probe-relay-2.log");
    CHECK(wait_until(60s, [&] {
      return count(*sql, "SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0;
    }));
    // The admin server of the running service: liveness, readiness, metrics.
    CHECK(wait_until(10s, [&] { return http_get(admin_port, "/health/live").first == 200; }));
    const auto [ready_status, ready_body] = http_get(admin_port, "/health/ready");
    CHECK(ready_status == 200);
    CHECK(ready_body.find(R"("database":"up")") != std::string::npos);
    CHECK(ready_body.find(R"("kafka":"up")") != std::string::npos);
    const auto [metrics_status, metrics_body] = http_get(admin_port, "/metrics");
    CHECK(metrics_status == 200);
    CHECK(metrics_body.find("bazaar_outbox_published_total") != std::string::npos);
    CHECK(http_get(admin_port, "/nope").first == 404);
    relay.signal(SIGTERM);
    CHECK(relay.wait(20s) == 0);  // a clean stop on SIGTERM
  }

  // Every row reached the topic at least once; copies are possible, loss is not.
  const auto records = read_topic(topic, static_cast<std::size_t>(total), 60s);
  std::set<std::string> seen;
  for (const auto& r : records) seen.insert(r.header("ce_id"));
  CHECK(seen == ids);
  MESSAGE((records.size() - seen.size()) << " copies republished after the kill");
  CHECK(records.size() >= seen.size() + 100);

  // A consumer with an inbox applies each event once, in order per key.
  {
    RunningProcessor consumer(p, group, {topic});
    CHECK(wait_until(120s,
                     [&] { return count(*sql, "SELECT count(*) FROM probe_applied") >= total; }));
  }
  CHECK(count(*sql, "SELECT count(*) FROM probe_applied") == total);
  CHECK(count(*sql, "SELECT count(DISTINCT ce_id) FROM probe_applied") == total);
  // Applied order per key follows seq: no key ever applied a lower seq after a higher one.
  CHECK(count(*sql, R"sql(
    SELECT count(*) FROM (
      SELECT seq < lag(seq) OVER (PARTITION BY key ORDER BY applied_seq) AS backwards
      FROM probe_applied) t WHERE backwards)sql") == 0);
}

TEST_CASE("retention purges old published outbox rows and old inbox rows only") {
  Platform p;
  auto sql = clean_test_database();
  sql->once << R"sql(
    INSERT INTO outbox (id, aggregatetype, aggregateid, type, payload, headers, created_at, published_at)
    VALUES ('01890000-0000-7000-8000-000000000001', 't', 'k', 'x', '{}', '{}', now() - interval '3 hours', now() - interval '3 hours'),
           ('01890000-0000-7000-8000-000000000002', 't', 'k', 'x', '{}', '{}', now(), now()),
           ('01890000-0000-7000-8000-000000000003', 't', 'k', 'x', '{}', '{}', now() - interval '3 hours', NULL))sql";
  sql->once << R"sql(
    INSERT INTO inbox (consumer, ce_id, ce_type, topic, kafka_partition, kafka_offset, received_at)
    VALUES ('c', '01890000-0000-7000-8000-000000000011', 'x', 't', 0, 1, now() - interval '3 hours'),
           ('c', '01890000-0000-7000-8000-000000000012', 'x', 't', 0, 2, now()))sql";
  events::OutboxRelay relay({.db_url = p.db_url, .retention = std::chrono::hours{1}}, p.producer);
  relay.purge();
  // The old published row goes; the recent one and the unpublished one (however old) stay.
  CHECK(count(*sql, "SELECT count(*) FROM outbox") == 2);
  CHECK(count(*sql, "SELECT count(*) FROM outbox WHERE published_at IS NULL") == 1);
  CHECK(count(*sql, "SELECT count(*) FROM inbox") == 1);
}

TEST_CASE("migrations apply once however often a service starts") {
  auto sql = clean_test_database();  // applies them
  events::Database db(required_env("BAZAAR_TEST_DB"));
  CHECK(events::migrate(db, "platform", events::platform_migrations()) == 0);
  CHECK(events::migrate(db, "probe", events::load_migrations(BAZAAR_PROBE_MIGRATIONS_DIR)) == 0);
  CHECK(count(*sql, "SELECT count(*) FROM schema_migrations WHERE component = 'platform'") ==
        static_cast<long long>(events::platform_migrations().size()));
}

TEST_CASE("crash points end the process where they say and lose or double nothing") {
  Platform p;
  auto sql = clean_test_database();
  const std::string topic = unique_name("itest.crash");
  const std::string group = unique_name("itest-crash");
  create_topic(topic, 3);
  const std::string log_dir = required_env("BAZAAR_RUN_DIR");
  std::map<std::string, std::string> env{
      {"BAZAAR_PROBE_DB", p.db_url},
      {"BAZAAR_SCHEMAS_DIR", BAZAAR_TEST_SCHEMAS_DIR},
      {"BAZAAR_PROBE_MIGRATIONS_DIR", BAZAAR_PROBE_MIGRATIONS_DIR},
      {"BAZAAR_RELAY_LEASE_MS", "1000"}};
  const std::vector<std::string> consume{"--topic", topic, "--group", group};

  // The relay crashes once its first batch was delivered but before it marked it.
  const auto ids = fill_outbox(p, *sql, topic, 6, 10, 20);
  {
    auto crash_env = env;
    crash_env["BAZAAR_CRASH_AT"] = "relay_after_send";
    ChildProcess probe(BAZAAR_PROBE_BINARY, {}, crash_env, log_dir + "/probe-crash-relay.log");
    CHECK(probe.wait(60s) == events::crash::kExitStatus);
  }
  CHECK(count(*sql, "SELECT count(*) FROM outbox WHERE published_at IS NOT NULL") == 0);

  // Then the consumer crashes after committing its second transaction, before its offsets.
  {
    auto crash_env = env;
    crash_env["BAZAAR_CRASH_AT"] = "after_commit_before_offset:2";
    ChildProcess probe(BAZAAR_PROBE_BINARY, consume, crash_env,
                       log_dir + "/probe-crash-offset.log");
    CHECK(probe.wait(60s) == events::crash::kExitStatus);
  }
  CHECK(count(*sql, "SELECT count(*) FROM probe_applied") > 0);

  // Restarted without a crash point: the uncommitted offsets replay into the inbox, and
  // everything arrives once.
  {
    const std::uint16_t admin = free_port();
    auto args = consume;
    args.insert(args.end(), {"--admin-port", std::to_string(admin)});
    ChildProcess probe(BAZAAR_PROBE_BINARY, args, env, log_dir + "/probe-crash-after.log");
    CHECK(wait_until(60s, [&] {
      const auto [status, metrics] = http_get(admin, "/metrics");
      return status == 200 && metrics.find(R"(outcome="duplicate")") != std::string::npos &&
             count(*sql, "SELECT count(*) FROM probe_applied") >= 60 &&
             count(*sql, "SELECT count(*) FROM outbox WHERE published_at IS NULL") == 0;
    }));
    probe.signal(SIGTERM);
    CHECK(probe.wait(20s) == 0);
  }
  CHECK(count(*sql, "SELECT count(*) FROM probe_applied") == 60);
  CHECK(count(*sql, "SELECT count(DISTINCT ce_id) FROM probe_applied") == 60);
  const auto records = read_topic(topic, 60, 30s);
  std::set<std::string> seen;
  for (const auto& r : records) seen.insert(r.header("ce_id"));
  CHECK(seen == ids);
  CHECK(records.size() > seen.size());  // the first batch went out twice; the inbox took one
}
