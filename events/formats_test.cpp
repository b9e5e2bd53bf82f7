#include "events/formats.hpp"

#include <doctest/doctest.h>

using bazaar::events::follows_format;
using bazaar::events::format_failure;
using bazaar::events::string_format;
using bazaar::events::StringFormat;

TEST_CASE("the date and time formats of JSON Schema are known by their keyword") {
  CHECK(string_format("date") == StringFormat::date);
  CHECK(string_format("time") == StringFormat::time);
  CHECK(string_format("date-time") == StringFormat::date_time);
  CHECK_FALSE(string_format("email").has_value());
  CHECK_FALSE(string_format("Date-Time").has_value());
  CHECK(format_failure(StringFormat::date_time) == "String should be a valid date-time");
}

TEST_CASE("a date-time follows RFC 3339") {
  for (const char* good :
       {"2026-12-01T02:41:48Z", "2026-12-01T02:41:48.007589Z", "2026-12-01t02:41:48z",
        "2026-12-01T02:41:48+02:00", "2026-12-01T23:59:59-11:30", "2024-02-29T00:00:00Z",
        "2000-02-29T00:00:00Z", "2016-12-31T23:59:60Z", "0001-01-01T00:00:00Z"}) {
    CAPTURE(good);
    CHECK(follows_format(StringFormat::date_time, good));
  }
  for (const char* bad : {"",
                          "2026-12-01",
                          "2026-12-01T02:41:48",
                          "2026-12-01 02:41:48Z",
                          "2026-12-01T02:41Z",
                          "26-12-01T02:41:48Z",
                          "20261-12-01T02:41:48Z",
                          "2026-13-01T02:41:48Z",
                          "2026-00-01T02:41:48Z",
                          "2026-12-00T02:41:48Z",
                          "2026-04-31T00:00:00Z",
                          "2026-02-29T00:00:00Z",
                          "1900-02-29T00:00:00Z",
                          "2026-12-01T24:00:00Z",
                          "2026-12-01T02:60:00Z",
                          "2026-12-01T02:41:61Z",
                          "2026-12-01T02:41:48.Z",
                          "2026-12-01T02:41:48+2:00",
                          "2026-12-01T02:41:48+02",
                          "2026-12-01T02:41:48+24:00",
                          "2026-12-01T02:41:48|02:00",
                          "2026-12-01T02:41:48Zx",
                          "2026-12-01T02:41:48Z ",
                          "2026-1a-01T02:41:48Z",
                          "\xef\xbc\x92"
                          "026-12-01T02:41:48Z"}) {
    CAPTURE(bad);
    CHECK_FALSE(follows_format(StringFormat::date_time, bad));
  }
}

TEST_CASE("a date and a time each follow their half of RFC 3339") {
  CHECK(follows_format(StringFormat::date, "2026-02-28"));
  CHECK(follows_format(StringFormat::date, "2028-02-29"));
  CHECK_FALSE(follows_format(StringFormat::date, "2026-02-29"));
  CHECK_FALSE(follows_format(StringFormat::date, "2026-06-31"));
  CHECK_FALSE(follows_format(StringFormat::date, "2026-12-01T00:00:00Z"));
  CHECK(follows_format(StringFormat::time, "16:05:09Z"));
  CHECK(follows_format(StringFormat::time, "16:05:09.5+02:00"));
  CHECK_FALSE(follows_format(StringFormat::time, "16:05:09"));
  CHECK_FALSE(follows_format(StringFormat::time, "2026-12-01T16:05:09Z"));
}
