// events::PreparedStatement against the real PostgreSQL: rows as text, NULLs, errors that
// classify like SOCI's, a statement prepared again on a new connection, and events::Transaction,
// whose BEGIN and COMMIT go out with its first and last statements.
#include <doctest/doctest.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include <stdexcept>

#include "events/db.hpp"
#include "harness.hpp"

using namespace bazaar;
using namespace bazaar::tests;

namespace {

const events::PreparedStatement kColumns{"test_prepared_columns", R"sql(
SELECT $1::text, CAST($2 AS bigint), CAST($3 AS boolean), CAST(NULL AS text), $4::text
FROM generate_series(1, CAST($5 AS integer)))sql"};

const events::PreparedStatement kInsertOnce{"test_prepared_insert_once", R"sql(
INSERT INTO prepared_probe (id) VALUES (CAST($1 AS integer)))sql"};

const events::PreparedStatement kInsertTagged{"test_pipelined_insert", R"sql(
INSERT INTO pipelined_probe (id, tag) VALUES (CAST($1 AS integer), CAST($1 AS integer) % 10))sql"};

long long probes(soci::session& sql) {
  return count(sql, "SELECT count(*) FROM pipelined_probe");
}

}  // namespace

TEST_CASE("a prepared statement returns its rows as text, NULL as null") {
  auto sql = connect_test_database();
  const std::string word = "ünïcode 'quoted'";
  const std::string number = "-9007199254740993";
  const std::string yes = "true";
  const std::string rows = "3";
  const events::PreparedRows got = kColumns.query(*sql, {&word, &number, &yes, nullptr, &rows});
  REQUIRE(got.size() == 3);
  CHECK(got.text(2, 0) == word);
  CHECK(got.integer(2, 1) == -9007199254740993LL);
  CHECK(got.integer(0, 2) == 1);
  CHECK(got.null(1, 3));
  CHECK(got.text(1, 3).empty());
  CHECK(got.integer(1, 3) == 0);
  CHECK(got.null(0, 4));  // a null pointer is passed as NULL
  CHECK_THROWS_AS(got.integer(0, 0), std::invalid_argument);

  const std::string none = "0";
  CHECK(kColumns.query(*sql, {&word, &number, &yes, nullptr, &none}).empty());
}

TEST_CASE(
    "a prepared statement fails like any statement and is prepared again on a new connection") {
  events::Database db(required_env("BAZAAR_TEST_DB"));
  db.session() << "DROP TABLE IF EXISTS prepared_probe";
  db.session() << "CREATE TABLE prepared_probe (id integer PRIMARY KEY)";
  const std::string one = "1";
  const std::string two = "2";
  {
    soci::transaction tx(db.session());
    CHECK(kInsertOnce.run(db.session(), {&one}) == 0);
    try {
      kInsertOnce.run(db.session(), {&one});
      FAIL("a duplicate key was inserted");
    } catch (const soci::postgresql_soci_error& e) {
      CHECK(e.sqlstate() == std::string("23505"));
      CHECK(events::classify(e, db) == events::FailureKind::permanent);
    }
    tx.rollback();
  }
  // Still prepared on this connection after the rollback; and on the next one after a reset.
  kInsertOnce.run(db.session(), {&one});
  db.reset();
  kInsertOnce.run(db.session(), {&two});
  CHECK(count(db.session(), "SELECT count(*) FROM prepared_probe") == 2);
  db.session() << "DROP TABLE prepared_probe";
}

TEST_CASE("an error with no SQLSTATE is transient only when the server no longer answers") {
  // libpq's own errors carry no SQLSTATE: a lost server, or a statement libpq refused to send.
  const soci::postgresql_soci_error no_answer("server closed the connection unexpectedly", "     ");
  events::Database victim(required_env("BAZAAR_TEST_DB"));
  int pid = 0;
  victim.session() << "SELECT pg_backend_pid()", soci::into(pid);
  CHECK(events::connection_answers(victim.session()));
  CHECK(events::classify(no_answer, victim) == events::FailureKind::permanent);

  // The server ends the victim's backend. Until the connection is used, libpq still calls it
  // healthy (over a Unix socket even after a failed statement): only a round trip tells.
  events::Database other(required_env("BAZAAR_TEST_DB"));
  other.session() << "SELECT pg_terminate_backend(:pid)", soci::use(pid, "pid");
  REQUIRE(wait_until(std::chrono::seconds{10}, [&] {
    long long left = 0;
    other.session() << "SELECT count(*) FROM pg_stat_activity WHERE pid = :pid",
        soci::use(pid, "pid"), soci::into(left);
    return left == 0;
  }));
  CHECK(events::connection_ok(victim.session()));
  CHECK(events::classify(no_answer, victim) == events::FailureKind::transient);
  CHECK_FALSE(victim.connected());
  victim.reset();
  victim.session();  // reconnects
  CHECK(victim.connected());
}

TEST_CASE("a transaction's BEGIN goes with its first statement and its COMMIT with its last") {
  events::Database db(required_env("BAZAAR_TEST_DB"));
  db.session() << "DROP TABLE IF EXISTS pipelined_probe";
  // `tag` is checked at commit: a duplicate tag fails the COMMIT, not the statement.
  db.session() << "CREATE TABLE pipelined_probe (id integer PRIMARY KEY, tag integer, "
                  "CONSTRAINT tag_once UNIQUE (tag) DEFERRABLE INITIALLY DEFERRED)";
  auto other = connect_test_database();
  const std::string one = "1", two = "2", three = "3", four = "4", eleven = "11", five = "5";

  {
    events::Transaction tx(db.session());
    kInsertTagged.run_first(tx, {&one});
    kInsertTagged.run(db.session(), {&two});
    CHECK(probes(*other) == 0);  // inside a transaction, not yet committed
    kInsertTagged.run_committing(tx, {&three});
  }
  CHECK(probes(*other) == 3);

  SUBCASE("a transaction left without a commit is rolled back") {
    {
      events::Transaction tx(db.session());
      kInsertTagged.run_first(tx, {&four});
      CHECK(probes(db.session()) == 4);
    }
    CHECK(probes(*other) == 3);
    CHECK(probes(db.session()) == 3);  // the session is outside any transaction again
  }
  SUBCASE("a failing first statement leaves no transaction behind") {
    {
      events::Transaction tx(db.session());
      try {
        kInsertTagged.run_first(tx, {&one});
        FAIL("a duplicate key was inserted");
      } catch (const soci::postgresql_soci_error& e) {
        CHECK(e.sqlstate() == std::string("23505"));
        CHECK(events::classify(e, db) == events::FailureKind::permanent);
      }
    }
    CHECK(probes(db.session()) == 3);
  }
  SUBCASE("a statement failing before COMMIT leaves the transaction for the rollback") {
    {
      events::Transaction tx(db.session());
      kInsertTagged.run_first(tx, {&four});
      try {
        kInsertTagged.run_committing(tx, {&one});
        FAIL("a duplicate key was committed");
      } catch (const soci::postgresql_soci_error& e) {
        CHECK(e.sqlstate() == std::string("23505"));
      }
    }
    CHECK(probes(*other) == 3);
    CHECK(probes(db.session()) == 3);  // would fail inside an aborted transaction
  }
  SUBCASE("a failing COMMIT ends the transaction and keeps nothing of it") {
    {
      events::Transaction tx(db.session());
      kInsertTagged.run_first(tx, {&four});
      try {
        kInsertTagged.run_committing(tx, {&eleven});  // tag 1 again
        FAIL("a duplicate tag was committed");
      } catch (const soci::postgresql_soci_error& e) {
        CHECK(e.sqlstate() == std::string("23505"));
      }
    }
    CHECK(probes(*other) == 3);
    CHECK(probes(db.session()) == 3);
  }
  SUBCASE("a commit needs a statement that opened the transaction") {
    events::Transaction tx(db.session());
    CHECK_THROWS_AS(tx.commit(), std::logic_error);
    CHECK_THROWS_AS(kInsertTagged.run_committing(tx, {&five}), std::logic_error);
    CHECK(probes(*other) == 3);
  }
  SUBCASE("a lost connection fails the first statement at once, as transient") {
    int pid = 0;
    db.session() << "SELECT pg_backend_pid()", soci::into(pid);
    *other << "SELECT pg_terminate_backend(:pid)", soci::use(pid, "pid");
    REQUIRE(wait_until(std::chrono::seconds{10}, [&] {
      return count(*other,
                   "SELECT count(*) FROM pg_stat_activity WHERE pid = " + std::to_string(pid)) == 0;
    }));
    {
      events::Transaction tx(db.session());
      try {
        kInsertTagged.run_first(tx, {&five});
        FAIL("a statement ran on a terminated connection");
      } catch (const std::exception& e) {
        CHECK(events::classify(e, db) == events::FailureKind::transient);
      }
    }
    CHECK_FALSE(db.connected());
    db.reset();
    CHECK(probes(db.session()) == 3);
  }
  db.session() << "DROP TABLE pipelined_probe";
}

TEST_CASE("a statement planned on every run is never kept prepared, in or out of a transaction") {
  events::Database db(required_env("BAZAAR_TEST_DB"));
  soci::session& sql = db.session();
  sql << "DROP TABLE IF EXISTS per_run_probe";
  sql << "CREATE TABLE per_run_probe (id integer PRIMARY KEY)";
  const events::PreparedStatement per_run{
      "test_per_run_insert",
      "INSERT INTO per_run_probe (id) SELECT unnest(CAST($1 AS integer[])) RETURNING id",
      events::PreparedStatement::Plan::per_run};
  const events::PreparedStatement cached{
      "test_cached_insert", "INSERT INTO per_run_probe (id) VALUES (CAST($1 AS integer))"};
  const std::string first = "{1,2}";
  const std::string second = "{3}";
  const std::string third = "{4,5,6}";
  const std::string seven = "7";
  CHECK(per_run.run(sql, {&first}) == 2);
  {
    events::Transaction tx(sql);
    CHECK(per_run.query_first(tx, {&second}).text(0, 0) == "3");  // with its BEGIN
    CHECK(per_run.query_committing(tx, {&third}).size() == 3);    // with its COMMIT
  }
  cached.run(sql, {&seven});
  CHECK(count(sql, "SELECT count(*) FROM per_run_probe") == 7);
  CHECK(count(sql,
              "SELECT count(*) FROM pg_prepared_statements WHERE name = 'test_per_run_insert'") ==
        0);
  CHECK(
      count(sql, "SELECT count(*) FROM pg_prepared_statements WHERE name = 'test_cached_insert'") ==
      1);
  // A failure is thrown as any statement's.
  CHECK_THROWS_AS(per_run.run(sql, {&first}), soci::postgresql_soci_error);
  sql << "DROP TABLE per_run_probe";
}

namespace {

const events::PreparedStatement kPadOf{"test_plan_probe_pad", R"sql(
SELECT pad FROM plan_probe WHERE id = CAST($1 AS integer))sql"};

// The plan the connection would run `kPadOf` with now.
std::string plan_of_pad(soci::session& sql) {
  std::string plan;
  const soci::rowset<std::string> lines = (sql.prepare << "EXPLAIN EXECUTE test_plan_probe_pad(7)");
  for (const auto& line : lines) plan += line + "\n";
  return plan;
}

}  // namespace

TEST_CASE("a prepared statement's plan follows its table as the table grows") {
  events::Database db(required_env("BAZAAR_TEST_DB"));
  soci::session& sql = db.session();
  sql << "DROP TABLE IF EXISTS plan_probe";
  // Analysed once, while small, and never again: only the statement being prepared again can
  // change its plan.
  sql << "CREATE TABLE plan_probe (id integer PRIMARY KEY, pad text) "
         "WITH (autovacuum_enabled = off)";
  sql << "INSERT INTO plan_probe SELECT i, 'x' FROM generate_series(1, 10) AS i";
  sql << "ANALYZE plan_probe";
  const std::string seven = "7";
  // PostgreSQL keeps a generic plan from the sixth run on: for a table of one page, a scan.
  for (int i = 0; i < 8; ++i) REQUIRE(kPadOf.query(sql, {&seven}).size() == 1);
  REQUIRE(plan_of_pad(sql).find("Seq Scan") != std::string::npos);

  sql << "INSERT INTO plan_probe SELECT i, repeat('x', 100) FROM generate_series(11, 200000) AS i";
  CHECK(plan_of_pad(sql).find("Seq Scan") != std::string::npos);  // still the plan it kept
  std::string plan;
  CHECK(wait_until(std::chrono::seconds{60}, [&] {
    REQUIRE(kPadOf.query(sql, {&seven}).size() == 1);
    plan = plan_of_pad(sql);
    return plan.find("Index Scan") != std::string::npos;
  }));
  INFO(plan);
  // A statement prepared again still answers, inside a transaction too.
  {
    soci::transaction tx(sql);
    CHECK(kPadOf.query(sql, {&seven}).text(0, 0) == "x");
    tx.commit();
  }
  // Dropped at once, a statement whose PREPARE then failed (its table gone) is prepared afresh
  // once the table is back: it is never dropped twice. Run until a run has come past its age.
  sql << "DROP TABLE plan_probe";
  const auto dropped = std::chrono::steady_clock::now();
  int refused = 0;
  CHECK(wait_until(std::chrono::seconds{30}, [&] {
    try {
      kPadOf.query(sql, {&seven});
    } catch (const soci::soci_error&) {
      ++refused;
    }
    return std::chrono::steady_clock::now() - dropped > std::chrono::seconds{11};
  }));
  CHECK(refused > 0);
  sql << "CREATE TABLE plan_probe (id integer PRIMARY KEY, pad text)";
  sql << "INSERT INTO plan_probe VALUES (7, 'back')";
  CHECK(kPadOf.query(sql, {&seven}).text(0, 0) == "back");
  sql << "DROP TABLE plan_probe";
}
