#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "events/clock.hpp"

// The aggregation rules of bazaar-analytics, free of Kafka and SQL.
namespace bazaar::analytics {

/// When an event happened, by its ce_time: milliseconds since the epoch and the UTC day
/// (`YYYY-MM-DD`). A ce_time that does not parse counts at `fallback` (the time it was read).
struct EventTime {
  std::int64_t epoch_ms = 0;
  std::string day;
};
EventTime event_time(std::string_view ce_time, events::Clock::time_point fallback);

/// The UTC day of a time in milliseconds since the epoch.
std::string utc_day(std::int64_t epoch_ms);

/// Saga durations are counted in logarithmic buckets: bucket b holds durations in
/// (2^((b-1)/4), 2^(b/4)] ms (bucket 0: up to 1 ms), so a percentile read from them is within
/// 19 % of the true one; the last bucket holds everything longer.
inline constexpr int kDurationBuckets = 96;
int duration_bucket(double ms);
double bucket_upper_ms(int bucket);

/// The q-quantile (0 < q <= 1) of a histogram {bucket: count}, interpolated linearly inside
/// the bucket it falls in; 0 for an empty histogram.
double quantile(const std::map<int, long long>& histogram, double q);

/// A refund of `amount` spread over an order's line amounts in proportion, in whole minor
/// units that add up to `amount` exactly: each line's share rounded half up, then put right a
/// unit at a time in the order that makes a larger refund never give a line less (a line of w
/// units holds them at (2k - 1) / 2w of the order's total, and a refund takes the first ones).
std::vector<long long> allocate_refund(long long amount, const std::vector<long long>& lines);

/// The part of each line in a refund of `amount` that follows `before` already refunded: what
/// allocate_refund gives the new total less what it gave the old, never negative. Refunds split
/// one by one would round each on its own, and a fully refunded order could leave a line a cent
/// off.
std::vector<long long> allocate_further_refund(long long before, long long amount,
                                               const std::vector<long long>& lines);

/// A failure reason as counted: at most 100 characters, "unspecified" when empty.
std::string reason_key(std::string_view reason);

/// The metric of one day's sales: `sales.<YYYY-MM-DD>`.
std::string sales_metric(std::string_view day);

}  // namespace bazaar::analytics
