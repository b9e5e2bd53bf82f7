#include "events/envelope.hpp"

#include <doctest/doctest.h>

#include <boost/json/parse.hpp>

using namespace bazaar::events;

namespace {

RandomSource fixed_random() {
  auto n = std::make_shared<std::uint64_t>(1);
  return [n] { return (*n)++ * 0x9e3779b97f4a7c15ULL; };
}

Headers without(Headers h, std::string_view name) {
  std::erase_if(h, [&](const auto& kv) { return kv.first == name; });
  return h;
}

Headers with(Headers h, std::string_view name, std::string value) {
  for (auto& [k, v] : h) {
    if (k == name) v = std::move(value);
  }
  return h;
}

struct Fixture {
  ManualClock clock{Clock::time_point{std::chrono::milliseconds{1'767'323'045'678}}};
  UuidV7Generator ids{clock, fixed_random()};
  EnvelopeFactory factory{"order", clock, ids, fixed_random()};
};

}  // namespace

TEST_CASE_FIXTURE(Fixture, "an envelope survives headers and payload unchanged") {
  const Envelope e = factory.make("bazaar.order.OrderPlaced.v1", "order-1",
                                  boost::json::parse(R"({"total":1250,"note":"é \"q\""})"));
  CHECK(e.source == "/bazaar/order");
  CHECK(e.time == "2026-01-02T03:04:05.678Z");
  CHECK(Uuid::parse(e.id)->version() == 7);
  CHECK(trace_id_of(e.traceparent).size() == 32);

  const Headers h = to_headers(e);
  const auto back = decode(h, encode_payload(e));
  REQUIRE(back.ok());
  const Envelope& d = back.value();
  CHECK(d.id == e.id);
  CHECK(d.source == e.source);
  CHECK(d.type == e.type);
  CHECK(d.time == e.time);
  CHECK(d.subject == "order-1");
  CHECK(d.traceparent == e.traceparent);
  CHECK(d.data == e.data);
}

TEST_CASE_FIXTURE(Fixture, "the binary-mode headers are the ones of CloudEvents 1.0") {
  const Envelope e = factory.make("bazaar.order.OrderPlaced.v1", "order-1", boost::json::object{});
  const Headers h = to_headers(e);
  auto value = [&](std::string_view name) -> std::string {
    for (const auto& [k, v] : h) {
      if (k == name) return v;
    }
    return "<absent>";
  };
  CHECK(value("ce_specversion") == "1.0");
  CHECK(value("content-type") == "application/json");
  CHECK(value("ce_type") == "bazaar.order.OrderPlaced.v1");
  CHECK(value("ce_subject") == "order-1");
  CHECK(value("ce_correlationid") == "<absent>");  // a first event has no cause
}

TEST_CASE_FIXTURE(Fixture, "an event caused by another carries its correlation and trace") {
  Envelope cause = factory.make("bazaar.order.PlaceOrder.v1", "order-7", boost::json::object{});
  cause.correlation_id = "order-7";
  const Envelope effect =
      factory.make("bazaar.inventory.ReserveStock.v1", "order-7", boost::json::object{}, &cause);
  CHECK(effect.correlation_id == "order-7");
  CHECK(effect.causation_id == cause.id);
  CHECK(trace_id_of(effect.traceparent) == trace_id_of(cause.traceparent));
  CHECK(effect.traceparent != cause.traceparent);  // a new span of the same trace

  Envelope uncorrelated = cause;
  uncorrelated.correlation_id.clear();
  const Envelope next = factory.make("bazaar.x.Y.v1", "s", boost::json::object{}, &uncorrelated);
  CHECK(next.correlation_id == "order-7");  // falls back to the cause's subject
}

TEST_CASE_FIXTURE(Fixture, "decode names what is wrong with a record") {
  const Envelope e = factory.make("bazaar.order.OrderPlaced.v1", "order-1", boost::json::object{});
  const Headers good = to_headers(e);
  const std::string payload = encode_payload(e);

  struct Case {
    const char* name;
    Headers headers;
    std::string payload;
    const char* expect;
  };
  const Case cases[] = {
      {"no specversion", without(good, "ce_specversion"), payload, "ce_specversion"},
      {"old specversion", with(good, "ce_specversion", "0.3"), payload, "0.3"},
      {"no id", without(good, "ce_id"), payload, "ce_id"},
      {"id not a uuid", with(good, "ce_id", "42"), payload, "not a UUID"},
      {"no type", without(good, "ce_type"), payload, "ce_type"},
      {"empty source", with(good, "ce_source", ""), payload, "ce_source"},
      {"xml", with(good, "content-type", "application/xml"), payload, "content-type"},
      {"not json", good, "{not json", "not JSON"},
      {"not an object", good, "[1,2]", "not a JSON object"},
      {"a NUL in the subject", with(good, "ce_subject", std::string("order-1\0x", 9)), payload,
       "ce_subject holds a control character"},
      {"an escape in the type", with(good, "ce_type", "bazaar.order.\x1b[2J.v1"), payload,
       "ce_type holds a control character"},
      {"a line feed in the id", with(good, "ce_id", e.id + "\n"), payload, "ce_id is not a UUID"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    const auto r = decode(c.headers, c.payload);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == "undecodable");
    CHECK(r.error().message.find(c.expect) != std::string::npos);
  }
}

TEST_CASE("trace ids come only from well-formed traceparents") {
  CHECK(trace_id_of("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01") ==
        "4bf92f3577b34da6a3ce929d0e0e4736");
  CHECK(trace_id_of("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01").empty());
  CHECK(trace_id_of("garbage").empty());
}

TEST_CASE("RFC 3339 times are UTC with milliseconds") {
  CHECK(format_rfc3339(Clock::time_point{}) == "1970-01-01T00:00:00.000Z");
  CHECK(format_rfc3339(Clock::time_point{std::chrono::milliseconds{951'782'400'007}}) ==
        "2000-02-29T00:00:00.007Z");
}

TEST_CASE("RFC 3339 times are read back with their offset") {
  const auto t = Clock::time_point{std::chrono::milliseconds{1'767'323'045'678}};
  CHECK(parse_rfc3339(format_rfc3339(t)) == t);
  CHECK(parse_rfc3339("2026-01-02T04:04:05.678+01:00") == t);
  CHECK(parse_rfc3339("2026-01-02T03:04:05Z") ==
        Clock::time_point{std::chrono::seconds{1'767'323'045}});
  CHECK_FALSE(parse_rfc3339("2026-01-02 03:04:05Z").has_value());
  CHECK_FALSE(parse_rfc3339("2026-13-02T03:04:05Z").has_value());
  CHECK_FALSE(parse_rfc3339("2026-01-02T03:04:05").has_value());
  CHECK_FALSE(parse_rfc3339("yesterday").has_value());
}

TEST_CASE("RFC 3339 times the clock cannot hold are refused and early ones print right") {
  // Found by tests/fuzz/envelope_fuzz (corpus/envelope/time-year-1): year 1 overflowed the
  // nanosecond clock, and times before 1970 printed a negative millisecond.
  CHECK_FALSE(parse_rfc3339("0001-01-01T00:00:00Z").has_value());
  CHECK_FALSE(parse_rfc3339("9999-12-31T23:59:59.999Z").has_value());
  CHECK_FALSE(parse_rfc3339("2262-04-12T00:00:00Z").has_value());
  const auto early = parse_rfc3339("1969-12-31T23:59:59.250Z");
  REQUIRE(early.has_value());
  CHECK(format_rfc3339(*early) == "1969-12-31T23:59:59.250Z");
  CHECK(format_rfc3339(Clock::time_point{std::chrono::milliseconds{-1}}) ==
        "1969-12-31T23:59:59.999Z");
  const auto oldest = parse_rfc3339("1700-01-01T00:00:00Z");
  REQUIRE(oldest.has_value());
  CHECK(format_rfc3339(*oldest) == "1700-01-01T00:00:00.000Z");
}
