#include "events/relay_floor.hpp"

#include <doctest/doctest.h>

#include <limits>
#include <stdexcept>

using bazaar::events::RelayFloor;
using bazaar::events::TxSnapshot;

namespace {

constexpr long long kAll = std::numeric_limits<long long>::max();

}  // namespace

TEST_CASE("a snapshot reads as PostgreSQL prints it") {
  const auto s = TxSnapshot::parse("100:120:115,103,110");
  CHECK(s.xmin == 100);
  CHECK(s.xmax == 120);
  CHECK(s.running == std::vector<std::uint64_t>{103, 110, 115});
  CHECK(TxSnapshot::parse("7:7:").running.empty());

  CHECK(s.ended(99));
  CHECK(s.ended(100));  // xmin itself is not listed: it had ended
  CHECK_FALSE(s.ended(103));
  CHECK(s.ended(104));
  CHECK_FALSE(s.ended(120));  // at or above xmax: not yet known to have ended
}

TEST_CASE("anything but xmin:xmax:xip,... is refused") {
  for (const char* bad : {"", "1", "1:2", "a:2:", "1:b:", "5:2:", "1:9:0", "1:9:9", "1:9:3,",
                          "1:9:,3", "1:9:3,,4", "-1:9:", "1:9:3x"}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(TxSnapshot::parse(bad), std::invalid_argument);
  }
}

TEST_CASE("a pass's end becomes the floor once its listed transactions ended") {
  RelayFloor floor;
  floor.published_through(40, TxSnapshot::parse("100:110:104,107"), 112);
  CHECK(floor.value() == 0);
  CHECK_FALSE(floor.advance(TxSnapshot::parse("104:115:104"), kAll));  // 104 still runs
  CHECK(floor.value() == 0);
  CHECK(floor.advance(TxSnapshot::parse("108:115:"), kAll));
  CHECK(floor.value() == 40);
  CHECK(floor.pending() == 0);
}

TEST_CASE("a transaction at or above the pass's xmax holds the floor back until it ended") {
  // Its id came after every completed one, so the pass's snapshot could not list it; it is
  // below the mark's id, so it may have taken a seq before the pass read.
  RelayFloor floor;
  floor.published_through(40, TxSnapshot::parse("100:101:"), 103);
  CHECK_FALSE(floor.advance(TxSnapshot::parse("101:105:101"), kAll));  // 101 runs
  CHECK_FALSE(floor.advance(TxSnapshot::parse("102:105:102"), kAll));  // so does 102
  CHECK_FALSE(floor.advance(TxSnapshot::parse("101:102:"), kAll));     // 102 not yet known
  CHECK(floor.advance(TxSnapshot::parse("103:105:103,104"), kAll));    // the mark's and later
  CHECK(floor.value() == 40);
}

TEST_CASE("a floor waits for a pass that read past it to cover it") {
  RelayFloor floor;
  floor.published_through(40, TxSnapshot::parse("100:101:"), 101);
  // Every transaction ended, but this pass's full batch stopped at 30: rows between 30 and
  // 40 committed late may still wait above it.
  CHECK_FALSE(floor.advance(TxSnapshot::parse("200:200:"), 30));
  CHECK(floor.advance(TxSnapshot::parse("200:200:"), 40));
  CHECK(floor.value() == 40);
}

TEST_CASE("passes are confirmed in order and the floor never goes back") {
  RelayFloor floor(10);
  floor.published_through(20, TxSnapshot::parse("100:101:100"), 101);
  floor.published_through(30, TxSnapshot::parse("100:103:100,102"), 103);
  floor.published_through(25, TxSnapshot::parse("100:104:100"), 104);  // not beyond 30: ignored
  CHECK(floor.pending() == 2);
  CHECK_FALSE(floor.advance(TxSnapshot::parse("100:110:100"), kAll));
  CHECK(floor.advance(TxSnapshot::parse("102:110:102"), kAll));
  CHECK(floor.value() == 20);
  CHECK(floor.advance(TxSnapshot::parse("110:110:"), kAll));
  CHECK(floor.value() == 30);
  floor.published_through(30, TxSnapshot::parse("110:111:"), 111);
  CHECK(floor.pending() == 0);
  floor.reset(5);
  CHECK(floor.value() == 5);
}

TEST_CASE("past its limit of passes the newest absorbs the next and waits for both") {
  RelayFloor floor;
  // A long transaction (50) holds every pass back, so they pile up.
  for (long long seq = 1; seq <= 100; ++seq) {
    const auto xid = static_cast<std::uint64_t>(100 + seq);
    floor.published_through(
        seq, TxSnapshot::parse("50:" + std::to_string(xid) + ":50," + std::to_string(xid - 1)),
        xid + 1);
  }
  CHECK(floor.pending() == 64);
  // 50 ended, and everything up to the 63rd pass's mark: the passes up to it are confirmed,
  // the merged newest still waits for the later transactions it absorbed.
  CHECK(floor.advance(TxSnapshot::parse("164:300:180"), kAll));
  CHECK(floor.value() == 63);
  CHECK(floor.pending() == 1);
  CHECK(floor.advance(TxSnapshot::parse("300:300:"), kAll));
  CHECK(floor.value() == 100);
}

TEST_CASE("the floor moves at once over seqs published one after another") {
  RelayFloor floor(10);
  floor.published_through(20, TxSnapshot::parse("100:101:100"), 101);  // waits for 100
  floor.published_through(30, TxSnapshot::parse("100:103:100"), 103);
  floor.published({11, 12, 13, 15, 16});  // 14 is missing: 15 and 16 wait above it
  CHECK(floor.value() == 13);
  CHECK(floor.known_published(12));
  CHECK_FALSE(floor.known_published(14));
  CHECK(floor.known_published(16));
  CHECK_FALSE(floor.known_published(17));
  floor.published({14});
  CHECK(floor.value() == 16);
  floor.published({17, 18, 19, 20, 21, 22, 23, 24, 25});
  CHECK(floor.value() == 25);
  CHECK(floor.pending() == 1);  // the pass to 20 is passed; the one to 30 still waits for 100
  floor.published({27});
  CHECK_FALSE(floor.advance(TxSnapshot::parse("100:110:100"), kAll));
  CHECK(floor.advance(TxSnapshot::parse("110:110:"), kAll));
  CHECK(floor.value() == 30);
  floor.published({29, 31});  // never back; 31 follows at once
  CHECK(floor.value() == 31);
  CHECK(floor.pending() == 0);
  floor.published_through(40, TxSnapshot::parse("120:121:120"), 121);  // waits for 120
  floor.published({41});  // kept above the gap 32..40 fills
  CHECK(floor.advance(TxSnapshot::parse("121:121:"), kAll));
  CHECK(floor.value() == 41);  // the pass's end, and at once the seq kept after it
  floor.published({43});
  floor.reset(40);  // another holder's floor: nothing kept above the old one counts
  CHECK_FALSE(floor.known_published(43));
  floor.published({41});
  CHECK(floor.value() == 41);
}
