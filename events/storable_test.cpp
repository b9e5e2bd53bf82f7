#include "events/storable.hpp"

#include <doctest/doctest.h>
#include <soci/postgresql/soci-postgresql.h>

#include <boost/json/parse.hpp>
#include <limits>

#include "events/db.hpp"

using namespace bazaar::events;

namespace {

// What find_unstorable says about a payload written as JSON text: "<field> <problem>", or "".
std::string verdict(std::string_view json) {
  const auto found = find_unstorable(boost::json::parse(json));
  return found ? found->message() : std::string{};
}

constexpr const char* kControl = " must not contain control characters";
constexpr const char* kTooLarge = " is beyond what a 64-bit integer holds";

}  // namespace

TEST_CASE("control characters are refused in every string but tab, line feed and carriage return") {
  CHECK_FALSE(has_control_character(""));
  CHECK_FALSE(has_control_character("plain text, ünïcödé and emoji \xF0\x9F\x8D\xB5"));
  CHECK_FALSE(has_control_character("line one\nline two\r\n\tindented"));
  CHECK(has_control_character(std::string_view("a\0b", 3)));
  for (int c = 1; c < 0x20; ++c) {
    CAPTURE(c);
    const bool allowed = c == '\t' || c == '\n' || c == '\r';
    CHECK(has_control_character(std::string(1, static_cast<char>(c))) == !allowed);
  }
  CHECK(has_control_character("\x7f"));
  // C1 controls are Unicode characters PostgreSQL stores; edge lets them through too.
  CHECK_FALSE(has_control_character("\xC2\x85"));
}

TEST_CASE("the first unstorable value is named by its path, never by its content") {
  struct Case {
    const char* name;
    const char* json;
    std::string expect;
  };
  const Case cases[] = {
      {"nothing wrong", R"({"name":"Tea","lines":[{"quantity":2}],"price":9223372036854775807})",
       ""},
      {"free text", R"({"description":"one\ntwo\tthree\r\n"})", ""},
      {"NUL in a string", R"({"name":"Tea\u0000pot"})", std::string("name") + kControl},
      {"bell in a nested string", R"({"order":{"note":"\u0007"}})",
       std::string("order/note") + kControl},
      {"escape in an array item", R"({"lines":[{"product_id":"x"},{"product_id":"\u001b[2J"}]})",
       std::string("lines/1/product_id") + kControl},
      {"DEL", R"({"token":"tok\u007f"})", std::string("token") + kControl},
      {"a string in an array", R"({"tags":["ok","b\u0000d"]})", std::string("tags/1") + kControl},
      {"a member name", R"({"ok":1,"bad\u0000name":1})", std::string("bad\\u0000name") + kControl},
      {"int64 max + 1", R"({"price":9223372036854775808})", std::string("price") + kTooLarge},
      {"uint64 max", R"({"lines":[{"quantity":18446744073709551615}]})",
       std::string("lines/0/quantity") + kTooLarge},
      {"beyond uint64", R"({"amount":100000000000000000000})", std::string("amount") + kTooLarge},
      {"an exponent", R"({"amount":1e19})", std::string("amount") + kTooLarge},
      {"very negative", R"({"delta":-9.3e18})", std::string("delta") + kTooLarge},
      {"int64 min", R"({"delta":-9223372036854775808})", ""},
      {"zero with an exponent no double holds", R"({"sales":[{"net":0E750}]})",
       "sales/0/net is not a finite number"},
      {"a fraction", R"({"ratio":0.25,"mean":12345.5})", ""},
      {"the first of several", R"({"a":"\u0001","b":99999999999999999999})",
       std::string("a") + kControl},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    CHECK(verdict(c.json) == c.expect);
  }
}

TEST_CASE("a member name in a path is cut and never carries a control character") {
  const std::string name(200, 'x');
  const auto found = find_unstorable(boost::json::object{{name + '\x01', 1}});
  REQUIRE(found);
  CHECK(found->field == std::string(64, 'x') + "...");
  CHECK_FALSE(has_control_character(found->message()));
  // A cut between the bytes of one character would leave text that is not UTF-8.
  std::string wide;
  for (int i = 0; i < 70; ++i) wide += "\xC3\xA9";  // é
  const auto cut = find_unstorable(boost::json::object{{wide, "\x02"}});
  REQUIRE(cut);
  CHECK(cut->field.size() == 64 * 2 + 3);
}

TEST_CASE("a database error caused by a value is permanent, a broken connection transient") {
  // A NUL in text, a number out of range, a string too long, a NUL in jsonb.
  for (const char* state : {"22021", "22003", "22001", "22P05"}) {
    CAPTURE(state);
    const soci::postgresql_soci_error value_error("ERROR: bad value", state);
    CHECK(classify(value_error, true) == FailureKind::permanent);
    CHECK(classify(value_error, false) == FailureKind::permanent);  // the server answered
  }
  const soci::postgresql_soci_error broken("server closed the connection", "08006");
  CHECK(classify(broken, true) == FailureKind::transient);
  const soci::postgresql_soci_error deadlock("deadlock detected", "40P01");
  CHECK(classify(deadlock, true) == FailureKind::transient);
  const soci::postgresql_soci_error unique("duplicate key", "23505");
  CHECK(classify(unique, true) == FailureKind::permanent);
}
