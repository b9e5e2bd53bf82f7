#include "events/uuid.hpp"

#include <doctest/doctest.h>

#include <set>

using namespace bazaar::events;

namespace {

RandomSource counting_random() {
  auto n = std::make_shared<std::uint64_t>(0x9e3779b97f4a7c15ULL);
  return [n] { return *n = *n * 6364136223846793005ULL + 1442695040888963407ULL; };
}

std::uint64_t embedded_ms(const Uuid& id) {
  std::uint64_t ms = 0;
  for (int i = 0; i < 6; ++i) ms = ms << 8 | id.bytes[static_cast<std::size_t>(i)];
  return ms;
}

}  // namespace

TEST_CASE("UUIDv7 carries version 7 and the RFC variant and the clock's milliseconds") {
  ManualClock clock;
  UuidV7Generator gen(clock, counting_random());
  const Uuid id = gen.next();
  CHECK(id.version() == 7);
  CHECK((id.bytes[8] & 0xc0) == 0x80);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock.now().time_since_epoch()).count();
  CHECK(embedded_ms(id) == static_cast<std::uint64_t>(ms));
}

TEST_CASE("UUIDv7 ids sort in generation order within one millisecond") {
  ManualClock clock;  // never moves: every id shares one millisecond
  UuidV7Generator gen(clock, counting_random());
  Uuid previous = gen.next();
  for (int i = 0; i < 20000; ++i) {
    const Uuid next = gen.next();
    REQUIRE(previous < next);
    REQUIRE(previous.str() < next.str());  // text order matches byte order
    previous = next;
  }
}

TEST_CASE("UUIDv7 ids keep increasing when the clock steps back") {
  ManualClock clock;
  UuidV7Generator gen(clock, counting_random());
  const Uuid before = gen.next();
  clock.advance(-std::chrono::seconds{5});
  const Uuid after = gen.next();
  CHECK(before < after);
  clock.advance(std::chrono::seconds{10});
  const Uuid later = gen.next();
  CHECK(after < later);
  CHECK(embedded_ms(later) > embedded_ms(after));
}

TEST_CASE("UUIDv7 ids across milliseconds are unique and ordered") {
  ManualClock clock;
  UuidV7Generator gen(clock, counting_random());
  std::set<std::string> seen;
  std::string last;
  for (int i = 0; i < 1000; ++i) {
    if (i % 7 == 0) clock.advance(std::chrono::milliseconds{1});
    const std::string s = gen.next().str();
    CHECK(seen.insert(s).second);
    CHECK(last < s);
    last = s;
  }
}

TEST_CASE("UUID text round-trips and rejects malformed input") {
  const auto id = Uuid::parse("0190F5C2-7A1B-7C3D-8E4F-123456789ABC");
  REQUIRE(id.has_value());
  CHECK(id->str() == "0190f5c2-7a1b-7c3d-8e4f-123456789abc");
  CHECK(id->version() == 7);
  CHECK_FALSE(Uuid::parse("").has_value());
  CHECK_FALSE(Uuid::parse("0190f5c2-7a1b-7c3d-8e4f-123456789ab").has_value());
  CHECK_FALSE(Uuid::parse("0190f5c2x7a1b-7c3d-8e4f-123456789abc").has_value());
  CHECK_FALSE(Uuid::parse("0190f5c2-7a1b-7c3d-8e4f-123456789abg").has_value());
}
