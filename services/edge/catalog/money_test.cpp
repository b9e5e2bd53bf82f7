#include "catalog/money.hpp"

#include <doctest/doctest.h>

#include <boost/json/parse.hpp>
#include <cmath>
#include <limits>

using namespace bazaar::edge;

namespace {

std::optional<std::int64_t> minor_of(const char* json) {
  return to_minor(boost::json::parse(json));
}

}  // namespace

TEST_CASE("whole and two decimal amounts become minor units") {
  CHECK(minor_of("12") == 1200);
  CHECK(minor_of("12.5") == 1250);
  CHECK(minor_of("12.50") == 1250);
  CHECK(minor_of("0") == 0);
  CHECK(minor_of("0.0") == 0);
  CHECK(minor_of("12.0") == 1200);
  CHECK(minor_of("1e2") == 10000);
}

TEST_CASE("amounts whose doubles are a hair off the cent still convert exactly") {
  CHECK(minor_of("0.29") == 29);
  CHECK(minor_of("19.99") == 1999);
  CHECK(minor_of("0.01") == 1);
  CHECK(minor_of("1.15") == 115);
  CHECK(minor_of("4.35") == 435);
  CHECK(minor_of("99999999.99") == 9999999999);
  CHECK(minor_of("12345678901.23") == 1234567890123);
}

TEST_CASE("a third decimal or a bad amount is refused") {
  // Large amounts too, where a third decimal is only a few ulps away from the cent.
  CHECK_FALSE(minor_of("4560061503819.432"));
  CHECK_FALSE(minor_of("9999999999999.993"));
  CHECK(minor_of("9999999999999.99") == 999999999999999);
  // What a client's floating-point sum may send: not two decimals.
  CHECK_FALSE(minor_of("0.30000000000000004"));
  CHECK_FALSE(minor_of("12.345"));
  CHECK_FALSE(minor_of("0.001"));
  CHECK_FALSE(minor_of("19.999"));
  CHECK_FALSE(minor_of("-1"));
  CHECK_FALSE(minor_of("-0.5"));
  CHECK_FALSE(minor_of("10000000000001"));
  CHECK_FALSE(minor_of("1e14"));
  CHECK_FALSE(minor_of("18446744073709551615"));
  CHECK_FALSE(minor_of("\"12.5\""));
  CHECK_FALSE(minor_of("true"));
  CHECK_FALSE(minor_of("null"));
  CHECK_FALSE(minor_of("[1]"));
  CHECK_FALSE(to_minor(boost::json::value(std::numeric_limits<double>::quiet_NaN())));
  CHECK_FALSE(to_minor(boost::json::value(std::numeric_limits<double>::infinity())));
}

TEST_CASE("the largest amount is accepted") {
  CHECK(minor_of("10000000000000") == 1'000'000'000'000'000);
}

TEST_CASE("amounts in query text") {
  CHECK(parse_minor("12.50") == 1250);
  CHECK(parse_minor("7") == 700);
  CHECK_FALSE(parse_minor(""));
  CHECK_FALSE(parse_minor("abc"));
  CHECK_FALSE(parse_minor("[1]"));
  CHECK_FALSE(parse_minor("1e-400"));  // not zero, though a double reads it so
  CHECK(parse_minor("0e-400") == 0);
  CHECK_FALSE(parse_minor("12.345"));
  CHECK_FALSE(parse_minor("-3"));
  CHECK_FALSE(parse_minor("1.2.3"));
}

TEST_CASE("minor units become JSON numbers") {
  CHECK(from_minor(1250) == boost::json::value(12.5));
  CHECK(from_minor(1200).is_int64());
  CHECK(from_minor(1200).get_int64() == 12);
  CHECK(from_minor(5).get_double() == doctest::Approx(0.05));
  CHECK(from_minor(0).get_int64() == 0);
}

TEST_CASE("every cent survives the round trip") {
  for (std::int64_t m = 0; m < 100'000; ++m) {
    const auto back = to_minor(from_minor(m));
    REQUIRE(back.has_value());
    REQUIRE(*back == m);
  }
  for (std::int64_t m = 99'999'999'900; m < 100'000'000'000; ++m) {
    REQUIRE(to_minor(from_minor(m)) == m);
  }
}

TEST_CASE("prices are written as plain decimals") {
  CHECK(to_json_text(from_minor(1250)) == "12.5");
  CHECK(to_json_text(from_minor(1999)) == "19.99");
  CHECK(to_json_text(from_minor(5)) == "0.05");
  CHECK(to_json_text(from_minor(1200)) == "12");
  const boost::json::value doc =
      boost::json::parse(R"({"a":[1,2.5,"x\"y",null,true],"b":{"c":0.29}})");
  CHECK(to_json_text(doc) == R"({"a":[1,2.5,"x\"y",null,true],"b":{"c":0.29}})");
  CHECK(boost::json::parse(to_json_text(doc)) == doc);
  CHECK(to_json_text(boost::json::value(std::nan(""))) == "null");
}
