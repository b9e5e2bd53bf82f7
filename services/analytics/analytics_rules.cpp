#include "analytics_rules.hpp"

#include <algorithm>
#include <cmath>
#include <ctime>

#include "events/envelope.hpp"

namespace bazaar::analytics {
namespace {
// Products of two int64 amounts fit in 128 bits.
__extension__ using Wide = __int128;
__extension__ using UnsignedWide = unsigned __int128;
}  // namespace

std::string utc_day(std::int64_t epoch_ms) {
  // Floor division: a time before 1970 still falls on the right day.
  std::int64_t secs = epoch_ms / 1000;
  if (epoch_ms % 1000 < 0) --secs;
  const auto t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
  return buf;
}

EventTime event_time(std::string_view ce_time, events::Clock::time_point fallback) {
  const auto parsed = events::parse_rfc3339(ce_time);
  const auto at = parsed.value_or(fallback);
  const std::int64_t ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count();
  return {ms, utc_day(ms)};
}

int duration_bucket(double ms) {
  if (!(ms > 1.0)) return 0;  // also NaN and negatives (clock skew between services)
  const int b = static_cast<int>(std::ceil(4.0 * std::log2(ms) - 1e-9));
  return std::clamp(b, 0, kDurationBuckets - 1);
}

double bucket_upper_ms(int bucket) {
  return std::exp2(static_cast<double>(bucket) / 4.0);
}

double quantile(const std::map<int, long long>& histogram, double q) {
  long long total = 0;
  for (const auto& [bucket, count] : histogram) total += std::max(0LL, count);
  if (total == 0) return 0;
  const double rank = std::clamp(q, 0.0, 1.0) * static_cast<double>(total);
  long long below = 0;
  for (const auto& [bucket, count] : histogram) {
    if (count <= 0) continue;
    if (static_cast<double>(below + count) >= rank) {
      const double lower = bucket == 0 ? 0.0 : bucket_upper_ms(bucket - 1);
      const double upper = bucket_upper_ms(bucket);
      const double within = (rank - static_cast<double>(below)) / static_cast<double>(count);
      return lower + (upper - lower) * std::clamp(within, 0.0, 1.0);
    }
    below += count;
  }
  return bucket_upper_ms(histogram.rbegin()->first);
}

namespace {

// Each line of amount w holds w units, its k-th at (2k - 1) / 2w on a scale where the whole order
// runs from 0 to 1; a refund of T takes the T units nearest the start (ties: the earlier line).
// `a` units of line `w` taken, is the next one (at (2a + 1) / 2w) before the other line's?
bool unit_before(long long a, long long w, long long b, long long v) {
  using U = UnsignedWide;
  return (2 * static_cast<U>(a) + 1) * static_cast<U>(v) <
         (2 * static_cast<U>(b) + 1) * static_cast<U>(w);
}

// The first `taken` units (0 <= taken < total) in that order, line by line.
std::vector<long long> first_units(long long taken, const std::vector<long long>& weights,
                                   Wide total) {
  std::vector<long long> out(weights.size(), 0);
  long long given = 0;
  for (std::size_t i = 0; i < weights.size(); ++i) {
    // Units at or before taken / total: the share rounded half up.
    const Wide share = static_cast<Wide>(taken) * weights[i];
    out[i] = static_cast<long long>(share / total + (2 * (share % total) >= total ? 1 : 0));
    out[i] = std::min(out[i], weights[i]);
    given += out[i];
  }
  // That set is a prefix of the order; rounding leaves it at most a unit per line off `taken`.
  while (given < taken) {
    std::size_t next = weights.size();
    for (std::size_t i = 0; i < weights.size(); ++i) {
      if (out[i] == weights[i]) continue;
      if (next == weights.size() || unit_before(out[i], weights[i], out[next], weights[next]))
        next = i;
    }
    ++out[next];
    ++given;
  }
  while (given > taken) {
    std::size_t last = weights.size();
    for (std::size_t i = 0; i < weights.size(); ++i) {
      if (out[i] == 0) continue;
      if (last == weights.size() ||
          !unit_before(out[i] - 1, weights[i], out[last] - 1, weights[last]))
        last = i;
    }
    --out[last];
    --given;
  }
  return out;
}

}  // namespace

std::vector<long long> allocate_refund(long long amount, const std::vector<long long>& lines) {
  std::vector<long long> out(lines.size(), 0);
  if (lines.empty() || amount <= 0) return out;
  std::vector<long long> weights(lines.size());
  Wide total = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) total += weights[i] = std::max(0LL, lines[i]);
  if (total == 0) {
    out.front() = amount;
    return out;
  }
  // Past the order's total the units repeat: each whole round gives every line its amount.
  const auto rounds = static_cast<long long>(amount / total);
  out = first_units(static_cast<long long>(amount % total), weights, total);
  for (std::size_t i = 0; i < out.size(); ++i) out[i] += rounds * weights[i];
  return out;
}

std::vector<long long> allocate_further_refund(long long before, long long amount,
                                               const std::vector<long long>& lines) {
  std::vector<long long> out = allocate_refund(before + amount, lines);
  const std::vector<long long> earlier = allocate_refund(before, lines);
  for (std::size_t i = 0; i < out.size(); ++i) out[i] -= earlier[i];
  return out;
}

std::string reason_key(std::string_view reason) {
  if (reason.empty()) return "unspecified";
  std::string out(reason.substr(0, 100));
  if (reason.size() <= 100) return out;
  // Never end on half a UTF-8 sequence: find where the last one starts and drop it if cut.
  std::size_t lead = out.size();
  while (lead > 0 && (static_cast<unsigned char>(out[lead - 1]) & 0xC0) == 0x80) --lead;
  if (lead == 0) return out;
  --lead;
  const auto c = static_cast<unsigned char>(out[lead]);
  const std::size_t need = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : 4;
  if (out.size() - lead < need) out.resize(lead);
  return out;
}

std::string sales_metric(std::string_view day) {
  return "sales." + std::string(day);
}

}  // namespace bazaar::analytics
