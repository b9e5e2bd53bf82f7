#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace bazaar::events {

/// Named places where a fault test can make the process exit at once, as a crash would:
/// `BAZAAR_CRASH_AT=<point>[:<nth>]` (the nth time the point is passed, 1 by default). Unset,
/// a point costs one relaxed atomic load.
namespace crash {
inline constexpr const char* kAfterCommitBeforeOffset = "after_commit_before_offset";
inline constexpr const char* kBetweenBatchRecords = "between_batch_records";
inline constexpr const char* kRelayAfterSend = "relay_after_send";
inline constexpr const char* kRelayAfterMark = "relay_after_mark";
inline constexpr const char* kDeadlineScanBeforeUpdate = "deadline_scan_before_update";
/// Every point, for --help and validation.
const std::vector<std::string_view>& points();
/// The exit status of a crash point.
inline constexpr int kExitStatus = 86;
}  // namespace crash

/// Arms one crash point from its specification; throws std::invalid_argument naming what is
/// wrong (an unknown point, a count that is not a positive number). Empty disarms.
void arm_crash_point(const std::string& spec);

/// Exits the process at once (no destructor, no flush) when `point` is the armed one and this
/// is its nth pass.
void crash_point(const char* point);

}  // namespace bazaar::events
