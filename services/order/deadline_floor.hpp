#pragma once

#include <chrono>
#include <optional>

namespace bazaar::order {

/// Where a deadline scan starts. Every saga step moves an order's `deadline_at`, and each old
/// value stays in the deadline index until a vacuum removes it, among the past deadlines that
/// a scan walks: scanning from the start of time costs more the longer the service runs. So a
/// scan starts a little before the previous one, once that one found fewer rows than it could
/// take (it moved every due row it could lock), and every `full_every` one scans everything:
/// it finds a row that was locked when it came due, or one an earlier scan had no room for.
class DeadlineFloor {
 public:
  using time_point = std::chrono::system_clock::time_point;

  explicit DeadlineFloor(std::chrono::milliseconds full_every = std::chrono::seconds{5},
                         std::chrono::milliseconds overlap = std::chrono::seconds{1});

  /// The earliest deadline the scan at `now` looks at; nullopt: every one.
  std::optional<time_point> from(time_point now) const;
  /// The scan at `now`, which started `from`, committed; `filled`: it took as many rows as
  /// its limit allowed, so more may wait where it looked.
  void scanned(time_point now, std::optional<time_point> from, bool filled);

 private:
  std::chrono::milliseconds full_every_;
  std::chrono::milliseconds overlap_;
  std::optional<time_point> last_;  ///< the last scan that left nothing behind
  time_point next_full_{};
};

}  // namespace bazaar::order
