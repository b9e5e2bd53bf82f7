#include <doctest/doctest.h>

#include <stdexcept>

#include "events/db.hpp"

using bazaar::events::to_conninfo;

TEST_CASE("a PostgreSQL URL becomes a libpq connection string with a connect timeout") {
  CHECK(to_conninfo("postgresql://bazaar:s3cret@127.0.0.1:15432/bazaar_order") ==
        "user='bazaar' password='s3cret' host='127.0.0.1' port='15432' dbname='bazaar_order' "
        "connect_timeout='5'");
  CHECK(to_conninfo("postgres://h/db?connect_timeout=2&application_name=x") ==
        "host='h' dbname='db' connect_timeout='2' application_name='x'");
  // A Unix socket's directory is given as the host parameter, the URL's host left empty.
  CHECK(to_conninfo("postgresql://bazaar:s3cret@/bazaar_order?host=/run/pg&port=15432") ==
        "user='bazaar' password='s3cret' dbname='bazaar_order' host='/run/pg' port='15432' "
        "connect_timeout='5'");
}

TEST_CASE("URL escapes are decoded and libpq quoting is applied") {
  CHECK(to_conninfo("postgresql://u:p%40ss%27w@h/d") ==
        "user='u' password='p@ss\\'w' host='h' dbname='d' connect_timeout='5'");
}

TEST_CASE("anything but a PostgreSQL URL is refused") {
  CHECK_THROWS_AS(to_conninfo("mysql://h/d"), std::invalid_argument);
  CHECK_THROWS_AS(to_conninfo("postgresql://h/d?broken"), std::invalid_argument);
}

TEST_CASE("a text array literal quotes and escapes every element") {
  CHECK(bazaar::events::pg_text_array({}) == "{}");
  CHECK(bazaar::events::pg_text_array({"a", ""}) == R"({"a",""})");
  CHECK(bazaar::events::pg_text_array({R"(say "hi")", R"(back\slash)", "a,b{c}"}) ==
        R"({"say \"hi\"","back\\slash","a,b{c}"})");
  CHECK(bazaar::events::pg_int_array({}) == "{}");
  CHECK(bazaar::events::pg_int_array({1, -2, 30}) == "{1,-2,30}");
}
