#include "events/schema_registry.hpp"

#include <doctest/doctest.h>

#include <boost/json/parse.hpp>
#include <filesystem>
#include <fstream>

using bazaar::events::SchemaRegistry;

namespace {

const SchemaRegistry& registry() {
  static const SchemaRegistry r(BAZAAR_TEST_SCHEMAS_DIR);
  return r;
}

std::filesystem::path temp_dir(const char* name) {
  auto dir = std::filesystem::temp_directory_path() / name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace

TEST_CASE("schemas are keyed by their file name which is the event type") {
  CHECK(registry().knows("bazaar.test.Probe.v1"));
  CHECK_FALSE(registry().knows("bazaar.test.Probe.v2"));
}

TEST_CASE("a payload that follows its schema is accepted even with unknown fields") {
  const auto r = registry().validate("bazaar.test.Probe.v1",
                                     boost::json::parse(R"({"key":"k","seq":3,"extra":true})"));
  CHECK(r.ok());
}

TEST_CASE("a payload that breaks its schema is rejected naming each failing field") {
  const auto missing =
      registry().validate("bazaar.test.Probe.v1", boost::json::parse(R"({"key":"k"})"));
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().code == "schema_violation");
  CHECK(missing.error().message.find("seq") != std::string::npos);

  const auto wrong = registry().validate("bazaar.test.Probe.v1",
                                         boost::json::parse(R"({"key":"k","seq":-1,"fail":"x"})"));
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.error().message.find("seq") != std::string::npos);
  CHECK(wrong.error().message.find("fail") != std::string::npos);

  const auto type =
      registry().validate("bazaar.test.Probe.v1", boost::json::parse(R"({"key":1,"seq":"1"})"));
  CHECK_FALSE(type.ok());
}

TEST_CASE("a value of the wrong kind under a format is a violation and not an exception") {
  // Found by tests/fuzz/envelope_fuzz (corpus/envelope/stats-as-of-array): valijson threw from
  // validate() for an array where a date-time belongs, which stopped the consumer.
  const auto dir = temp_dir("bazaar-schema-format");
  std::ofstream(dir / "bazaar.test.Dated.v1.json") << R"({
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "properties": { "at": { "type": "string", "format": "date-time" } }
  })";
  const SchemaRegistry dated(dir);
  CHECK(
      dated.validate("bazaar.test.Dated.v1", boost::json::parse(R"({"at":"2026-01-02T03:04:05Z"})"))
          .ok());
  for (const char* payload :
       {R"({"at":[]})", R"({"at":{"x":1}})", R"({"at":[1,"a"]})", R"({"at":5})"}) {
    CAPTURE(payload);
    const auto r = dated.validate("bazaar.test.Dated.v1", boost::json::parse(payload));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == "schema_violation");
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("a string under a date or time format that breaks it is a violation naming its field") {
  const auto dir = temp_dir("bazaar-schema-dates");
  std::ofstream(dir / "bazaar.test.Dates.v1.json") << R"({
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "required": ["at"],
    "properties": {
      "at": { "type": "string", "format": "date-time" },
      "window": { "type": "object", "properties": {
        "day": { "type": "string", "format": "date" },
        "opens": { "type": "string", "format": "time" } } },
      "history": { "type": "array", "items": { "type": "string", "format": "date-time" } }
    }
  })";
  const SchemaRegistry dates(dir);
  const auto check = [&](const char* payload) {
    return dates.validate("bazaar.test.Dates.v1", boost::json::parse(payload));
  };
  CHECK(check(R"({"at":"2026-01-02T03:04:05Z","window":{"day":"2028-02-29","opens":"09:00:00Z"},
                  "history":["2026-01-01T00:00:00+01:00"]})")
            .ok());

  const auto at = check(R"({"at":"2026-02-30T03:04:05Z"})");
  REQUIRE_FALSE(at.ok());
  CHECK(at.error().code == "schema_violation");
  CHECK(at.error().message == "/at: String should be a valid date-time");

  const auto nested = check(R"({"at":"2026-01-02T03:04:05Z","window":{"day":"2026-02-29"}})");
  REQUIRE_FALSE(nested.ok());
  CHECK(nested.error().message == "/window/day: String should be a valid date");
  const auto opens = check(R"({"at":"2026-01-02T03:04:05Z","window":{"opens":"25:00:00Z"}})");
  REQUIRE_FALSE(opens.ok());
  CHECK(opens.error().message == "/window/opens: String should be a valid time");

  // A format under `items` is checked too, and a format failure is reported beside others.
  const auto listed = check(R"({"at":"2026-01-02T03:04:05Z","history":["yesterday"]})");
  REQUIRE_FALSE(listed.ok());
  CHECK(listed.error().message.find("/history/0") != std::string::npos);
  const auto both = check(R"({"at":"soon","window":{"day":7}})");
  REQUIRE_FALSE(both.ok());
  CHECK(both.error().message.find("/at: String should be a valid date-time") != std::string::npos);
  CHECK(both.error().message.find("/window/day") != std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("a type without a schema is an error of its own") {
  const auto r = registry().validate("bazaar.nope.Unknown.v1", boost::json::object{});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == "unknown_type");
}

TEST_CASE("a broken schema file stops start-up with its name") {
  const auto dir = temp_dir("bazaar-schema-test");
  std::ofstream(dir / "bazaar.bad.Broken.v1.json") << "{ not json";
  try {
    SchemaRegistry r(dir);
    FAIL("a broken schema was accepted");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()).find("bazaar.bad.Broken.v1.json") != std::string::npos);
  }
  CHECK_THROWS_AS(SchemaRegistry(dir / "missing"), std::runtime_error);
}
