#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <set>
#include <string_view>
#include <vector>

namespace bazaar::events {

/// A PostgreSQL snapshot as `pg_current_snapshot()` prints it: `xmin:xmax:xip,xip,...`.
struct TxSnapshot {
  std::uint64_t xmin = 0;
  std::uint64_t xmax = 0;
  std::vector<std::uint64_t> running;  ///< the xip list, sorted

  /// Throws std::invalid_argument on anything but that form (xmin ≤ each xip < xmax).
  static TxSnapshot parse(std::string_view text);
  /// A transaction id as `pg_current_xact_id()` prints it; throws std::invalid_argument.
  static std::uint64_t parse_xid(std::string_view text);
  /// Whether transaction `xid` had ended (committed or aborted) when this snapshot was taken.
  bool ended(std::uint64_t xid) const;
};

/// Where the outbox relay's passes start: every row with `seq` at or below value() is
/// published, and no transaction can still add one.
///
/// It rests on one rule of the outbox table: a row's transaction has its id before the row
/// takes its `seq` (the column's default calls pg_current_xact_id() first). A pass reads the
/// rows above the floor with snapshot S and publishes every one up to `seq` F; F's transaction
/// had committed, so every lower seq was taken earlier, by a transaction that had its id before
/// S. If S did not show such a row, its transaction was running at S: S lists it, or its id
/// is at or above S's xmax and below the id of the pass's own mark, which is given after S.
/// Once each of those transactions ended, a later pass that reads from the old floor sees every
/// such row, and F becomes the floor. No clock, no periodic full scan: a row committed late is
/// published by the next pass after its commit.
class RelayFloor {
 public:
  explicit RelayFloor(long long start = 0) : value_(start) {}

  long long value() const { return value_; }
  /// Starts again from `start` (another holder published meanwhile).
  void reset(long long start);
  /// A pass read with `read` and published every row above the floor up to `last_seq`; the
  /// transaction of its mark had id `mark_xid`.
  void published_through(long long last_seq, const TxSnapshot& read, std::uint64_t mark_xid);
  /// The rows `seqs` were published. The floor moves at once over every seq published one
  /// after another above it, with no snapshot to wait for: each seq up to there belongs to a
  /// published row, so no transaction can still add one. Seqs above a gap are kept until the
  /// gap is published or a pass's snapshot moves the floor past it.
  void published(const std::vector<long long>& seqs);
  /// Whether the row `seq` is known to be published: at or below the floor, or kept above it.
  bool known_published(long long seq) const;
  /// A pass read with `read`, a later snapshot, and published every row above the floor up to
  /// `covered` (unbounded when its batch was not full): moves the floor to the newest earlier
  /// pass whose transactions have all ended in `read`. Returns whether the floor moved.
  bool advance(const TxSnapshot& read, long long covered);
  std::size_t pending() const { return pending_.size(); }

 private:
  /// What an earlier pass waits for: the transactions running at its snapshot, listed, and
  /// every id in [from, to) (those at or above its xmax, up to its mark's).
  struct Pass {
    long long last_seq;
    std::vector<std::uint64_t> running;
    std::uint64_t from;
    std::uint64_t to;
  };
  static bool ended_in(const Pass& pass, const TxSnapshot& read);
  /// Moves the floor over the published seqs that follow it and drops the passes it passed.
  void absorb();
  /// Passes kept at most; past that the newest absorbs the next (its floor waits for both
  /// passes' transactions, which is later but never wrong).
  static constexpr std::size_t kMaxPending = 64;

  /// Published seqs kept above the floor at most; past that, more are not kept (the floor then
  /// waits for a pass's snapshot, as it would without them).
  static constexpr std::size_t kMaxAbove = 100'000;

  long long value_;
  std::deque<Pass> pending_;
  std::set<long long> above_;  ///< published seqs above the floor
};

}  // namespace bazaar::events
