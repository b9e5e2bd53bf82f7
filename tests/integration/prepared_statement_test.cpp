// events::PreparedStatement against the real PostgreSQL: rows as text, NULLs, errors that
// classify like SOCI's, and a statement prepared again on a new connection.
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
