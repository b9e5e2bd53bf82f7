#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "events/result.hpp"
#include "record.hpp"

namespace bazaar::ctl {

/// A point in time as operators write it: a duration back from `now` (`90s`, `15m`, `2h`,
/// `7d`) or an RFC 3339 time (`2026-11-30T08:00:00Z`). Milliseconds since the epoch.
events::Result<std::int64_t> parse_time(std::string_view text,
                                        std::chrono::system_clock::time_point now);

/// `P:O` (partition and offset), or a bare `O` (partition nullopt).
struct PartitionOffset {
  std::optional<std::int32_t> partition;
  std::int64_t offset = 0;
};
events::Result<PartitionOffset> parse_partition_offset(std::string_view text);

/// Which records a command shows: every criterion given must hold.
struct Filter {
  std::optional<std::string> type;         ///< ce_type, or its short name (`OrderPlaced`)
  std::optional<std::string> correlation;  ///< ce_correlationid
  std::optional<std::string> subject;      ///< ce_subject or the record key
  std::optional<std::int64_t> since_ms;
  std::optional<std::int64_t> until_ms;

  bool matches(const Record& r) const;
};

/// Whether `type` names `ce_type`: the full name, or the event name alone
/// (`OrderPlaced` for `bazaar.order.OrderPlaced.v1`).
bool type_matches(std::string_view ce_type, std::string_view type);

}  // namespace bazaar::ctl
