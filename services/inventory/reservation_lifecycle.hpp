#pragma once

#include <chrono>
#include <optional>
#include <string_view>

namespace bazaar::inventory {

/// Where an order's reservation stands. REJECTED records a refused ReserveStock so a repeat
/// gets the same answer; RELEASED without lines records a release that came first.
enum class ReservationStatus { active, committed, released, expired, rejected };

/// The stored name: ACTIVE, COMMITTED, RELEASED, EXPIRED, REJECTED.
std::string_view to_string(ReservationStatus s);
/// The status of a stored name; nullopt for anything else.
std::optional<ReservationStatus> parse_status(std::string_view text);

using TimePoint = std::chrono::system_clock::time_point;

/// An active reservation stops holding stock once `now` is past its expiry.
bool is_expired(TimePoint expires_at, TimePoint now);

/// What a CommitReservation does.
enum class CommitAction {
  commit,            ///< reserved -> sold, then ReservationCommitted
  repeat_committed,  ///< already committed: ReservationCommitted again
  expire_then_fail,  ///< active but past expiry: release it as EXPIRED, then fail
  fail,              ///< ReservationCommitFailed with `failure`
};

/// A commit decision; `failure` is the contract's reason when the commit fails.
struct CommitDecision {
  CommitAction action = CommitAction::fail;
  std::string_view failure;
};

/// Decides a CommitReservation for a reservation in `status` (nullopt: none exists).
CommitDecision decide_commit(std::optional<ReservationStatus> status, TimePoint expires_at,
                             TimePoint now);

/// What a ReleaseStock does; compensation is never refused, at worst there is nothing to do.
enum class ReleaseAction {
  release_reserved,  ///< active: reserved -> available
  restock_sold,      ///< committed (cancelled after confirmation): sold -> available
  nothing,           ///< none, or already released, expired or rejected
};

/// Decides a ReleaseStock for a reservation in `status` (nullopt: none exists).
ReleaseAction decide_release(std::optional<ReservationStatus> status);

/// What a repeated ReserveStock answers: the reservation's current outcome, never a second
/// reservation.
enum class ReserveReplay { reserved, committed, released, rejected };

/// The answer to a ReserveStock for an order whose reservation is in `status`.
ReserveReplay replay_reserve(ReservationStatus status);

}  // namespace bazaar::inventory
