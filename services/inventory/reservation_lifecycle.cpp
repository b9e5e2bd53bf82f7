#include "reservation_lifecycle.hpp"

namespace bazaar::inventory {

std::string_view to_string(ReservationStatus s) {
  switch (s) {
    case ReservationStatus::active:
      return "ACTIVE";
    case ReservationStatus::committed:
      return "COMMITTED";
    case ReservationStatus::released:
      return "RELEASED";
    case ReservationStatus::expired:
      return "EXPIRED";
    case ReservationStatus::rejected:
      return "REJECTED";
  }
  return "UNKNOWN";
}

std::optional<ReservationStatus> parse_status(std::string_view text) {
  for (auto s :
       {ReservationStatus::active, ReservationStatus::committed, ReservationStatus::released,
        ReservationStatus::expired, ReservationStatus::rejected}) {
    if (to_string(s) == text) return s;
  }
  return std::nullopt;
}

bool is_expired(TimePoint expires_at, TimePoint now) {
  return expires_at < now;
}

CommitDecision decide_commit(std::optional<ReservationStatus> status, TimePoint expires_at,
                             TimePoint now) {
  if (!status) return {CommitAction::fail, "not_found"};
  switch (*status) {
    case ReservationStatus::active:
      // The expiry scan may not have run yet: an expired reservation must not become a sale.
      if (is_expired(expires_at, now)) return {CommitAction::expire_then_fail, "expired"};
      return {CommitAction::commit, {}};
    case ReservationStatus::committed:
      return {CommitAction::repeat_committed, {}};
    case ReservationStatus::expired:
      return {CommitAction::fail, "expired"};
    case ReservationStatus::released:
      return {CommitAction::fail, "released"};
    case ReservationStatus::rejected:
      return {CommitAction::fail, "not_found"};
  }
  return {CommitAction::fail, "not_found"};
}

ReleaseAction decide_release(std::optional<ReservationStatus> status) {
  if (!status) return ReleaseAction::nothing;
  switch (*status) {
    case ReservationStatus::active:
      return ReleaseAction::release_reserved;
    case ReservationStatus::committed:
      return ReleaseAction::restock_sold;
    default:
      return ReleaseAction::nothing;
  }
}

ReserveReplay replay_reserve(ReservationStatus status) {
  switch (status) {
    case ReservationStatus::active:
      return ReserveReplay::reserved;
    case ReservationStatus::committed:
      return ReserveReplay::committed;
    case ReservationStatus::rejected:
      return ReserveReplay::rejected;
    default:
      return ReserveReplay::released;
  }
}

}  // namespace bazaar::inventory
