#include "selection.hpp"

#include <doctest/doctest.h>

using namespace bazaar::ctl;

namespace {

const auto kNow = std::chrono::system_clock::time_point{std::chrono::seconds{1'700'000'000}};
constexpr std::int64_t kNowMs = 1'700'000'000'000;

}  // namespace

TEST_CASE("times are durations back from now or RFC 3339") {
  CHECK(parse_time("90s", kNow).value() == kNowMs - 90'000);
  CHECK(parse_time("15m", kNow).value() == kNowMs - 900'000);
  CHECK(parse_time("2h", kNow).value() == kNowMs - 7'200'000);
  CHECK(parse_time("1d", kNow).value() == kNowMs - 86'400'000);
  CHECK(parse_time("2023-11-14T22:13:20Z", kNow).value() == kNowMs);
  // Before 1970 no record has a time, and an age too large must not wrap around.
  CHECK_FALSE(parse_time("1969-12-31T23:59:59Z", kNow));
  CHECK_FALSE(parse_time("9999999999d", kNow));
  CHECK_FALSE(parse_time("9223372036854775807s", kNow));
  CHECK(parse_time("1970-01-01T00:00:00Z", kNow).value() == 0);
  for (const char* bad : {"", "m", "15", "15x", "-5m", "yesterday", "2026-13-40T00:00:00Z"}) {
    CAPTURE(bad);
    const auto t = parse_time(bad, kNow);
    REQUIRE_FALSE(t.ok());
    CHECK(t.error().code == "bad_time");
  }
}

TEST_CASE("offsets with and without their partition") {
  CHECK(parse_partition_offset("12").value().offset == 12);
  CHECK_FALSE(parse_partition_offset("12").value().partition);
  CHECK(parse_partition_offset("3:12").value().partition == 3);
  for (const char* bad : {"", "x", "3:", ":4", "-1", "1:-2", "1:2:3"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_partition_offset(bad).ok());
  }
}

TEST_CASE("a type is named in full or by its event name") {
  CHECK(type_matches("bazaar.order.OrderPlaced.v1", "bazaar.order.OrderPlaced.v1"));
  CHECK(type_matches("bazaar.order.OrderPlaced.v1", "OrderPlaced"));
  CHECK_FALSE(type_matches("bazaar.order.OrderPlaced.v1", "Order"));
  CHECK_FALSE(type_matches("bazaar.order.OrderPlaced.v1", "order"));
}

TEST_CASE("a filter needs every criterion it has") {
  bazaar::events::Envelope e;
  e.id = "0190f5c2-7a1b-7c3d-8e4f-123456789abc";
  e.source = "/bazaar/order";
  e.type = "bazaar.order.OrderPlaced.v1";
  e.time = "2023-11-14T22:13:20.000Z";
  e.subject = "o-1";
  e.correlation_id = "o-1";
  e.data = boost::json::object{{"order_id", "o-1"}};
  const Record r = make_record("order.events", 0, 5, kNowMs, "o-1",
                               bazaar::events::encode_payload(e), bazaar::events::to_headers(e));
  REQUIRE(r.event);
  auto with = [](auto set) {
    Filter f;
    set(f);
    return f;
  };
  CHECK(Filter{}.matches(r));
  CHECK(with([](Filter& f) { f.type = "OrderPlaced"; }).matches(r));
  CHECK_FALSE(with([](Filter& f) { f.type = "OrderConfirmed"; }).matches(r));
  CHECK(with([](Filter& f) { f.correlation = "o-1"; }).matches(r));
  CHECK_FALSE(with([](Filter& f) {
                f.type = "OrderPlaced";
                f.correlation = "o-2";
              }).matches(r));
  CHECK(with([](Filter& f) { f.subject = "o-1"; }).matches(r));
  CHECK_FALSE(with([](Filter& f) { f.since_ms = kNowMs + 1; }).matches(r));
  const Record raw = make_record("t", 0, 0, kNowMs, "k", "not an event", {});
  CHECK_FALSE(raw.event);
  CHECK(Filter{}.matches(raw));
  CHECK_FALSE(with([](Filter& f) { f.type = "OrderPlaced"; }).matches(raw));
}
