#include "analytics_rules.hpp"

#include <algorithm>
#include <cmath>
#include <ctime>
#include <numeric>

#include "events/envelope.hpp"

namespace bazaar::analytics {
namespace {
// Products of two int64 amounts fit in 128 bits.
__extension__ using Wide = __int128;
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

std::vector<long long> allocate_refund(long long amount, const std::vector<long long>& lines) {
  std::vector<long long> out(lines.size(), 0);
  if (lines.empty()) return out;
  Wide total = 0;
  for (long long l : lines) total += std::max(0LL, l);
  if (total == 0) {
    out.front() = amount;
    return out;
  }
  long long given = 0;
  std::vector<Wide> remainders(lines.size());
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const Wide share = static_cast<Wide>(amount) * std::max(0LL, lines[i]);
    out[i] = static_cast<long long>(share / total);
    remainders[i] = share % total;
    given += out[i];
  }
  std::vector<std::size_t> order(lines.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return remainders[a] > remainders[b]; });
  for (std::size_t k = 0; given < amount; k = (k + 1) % order.size(), ++given) ++out[order[k]];
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
