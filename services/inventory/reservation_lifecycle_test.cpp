#include "reservation_lifecycle.hpp"

#include <doctest/doctest.h>

using namespace bazaar::inventory;
using std::chrono::seconds;

namespace {
const TimePoint kNow{seconds{1'800'000'000}};
}

TEST_CASE("statuses round trip through their stored names") {
  for (auto s :
       {ReservationStatus::active, ReservationStatus::committed, ReservationStatus::released,
        ReservationStatus::expired, ReservationStatus::rejected}) {
    CHECK(parse_status(to_string(s)) == s);
  }
  CHECK_FALSE(parse_status("active").has_value());
}

TEST_CASE("a reservation expires only once now is past its deadline") {
  CHECK_FALSE(is_expired(kNow, kNow));
  CHECK(is_expired(kNow - seconds{1}, kNow));
  CHECK_FALSE(is_expired(kNow + seconds{1}, kNow));
}

TEST_CASE("an active reservation within its deadline commits") {
  const auto d = decide_commit(ReservationStatus::active, kNow + seconds{60}, kNow);
  CHECK(d.action == CommitAction::commit);
}

TEST_CASE("an active reservation past its deadline expires and the commit fails") {
  const auto d = decide_commit(ReservationStatus::active, kNow - seconds{1}, kNow);
  CHECK(d.action == CommitAction::expire_then_fail);
  CHECK(d.failure == "expired");
}

TEST_CASE("committing again repeats the outcome") {
  CHECK(decide_commit(ReservationStatus::committed, kNow - seconds{999}, kNow).action ==
        CommitAction::repeat_committed);
}

TEST_CASE("commits of released expired rejected or missing reservations fail with a reason") {
  const auto released = decide_commit(ReservationStatus::released, {}, kNow);
  CHECK(released.action == CommitAction::fail);
  CHECK(released.failure == "released");
  CHECK(decide_commit(ReservationStatus::expired, {}, kNow).failure == "expired");
  CHECK(decide_commit(ReservationStatus::rejected, {}, kNow).failure == "not_found");
  const auto none = decide_commit(std::nullopt, {}, kNow);
  CHECK(none.action == CommitAction::fail);
  CHECK(none.failure == "not_found");
}

TEST_CASE("release gives back reserved units or restocks sold ones and is otherwise a no-op") {
  CHECK(decide_release(ReservationStatus::active) == ReleaseAction::release_reserved);
  CHECK(decide_release(ReservationStatus::committed) == ReleaseAction::restock_sold);
  CHECK(decide_release(ReservationStatus::released) == ReleaseAction::nothing);
  CHECK(decide_release(ReservationStatus::expired) == ReleaseAction::nothing);
  CHECK(decide_release(ReservationStatus::rejected) == ReleaseAction::nothing);
  CHECK(decide_release(std::nullopt) == ReleaseAction::nothing);
}

TEST_CASE("a repeated reserve answers the current outcome of the reservation") {
  CHECK(replay_reserve(ReservationStatus::active) == ReserveReplay::reserved);
  CHECK(replay_reserve(ReservationStatus::committed) == ReserveReplay::committed);
  CHECK(replay_reserve(ReservationStatus::released) == ReserveReplay::released);
  CHECK(replay_reserve(ReservationStatus::expired) == ReserveReplay::released);
  CHECK(replay_reserve(ReservationStatus::rejected) == ReserveReplay::rejected);
}
