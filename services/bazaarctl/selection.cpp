#include "selection.hpp"

#include <charconv>

#include "events/envelope.hpp"

namespace bazaar::ctl {
namespace {

using events::Error;

std::optional<std::int64_t> number(std::string_view text) {
  std::int64_t n = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, n);
  if (ec != std::errc{} || ptr != end || text.empty()) return std::nullopt;
  return n;
}

std::int64_t millis(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

Error before_records(std::string_view text) {
  return Error{"bad_time", "'" + std::string(text) +
                               "' is before 1970-01-01T00:00:00Z, where record times begin"};
}

}  // namespace

events::Result<std::int64_t> parse_time(std::string_view text,
                                        std::chrono::system_clock::time_point now) {
  if (text.size() >= 2) {
    const char unit = text.back();
    if (const auto n = number(text.substr(0, text.size() - 1)); n && *n >= 0) {
      const std::int64_t seconds_per = unit == 's'   ? 1
                                       : unit == 'm' ? 60
                                       : unit == 'h' ? 3600
                                       : unit == 'd' ? 86400
                                                     : 0;
      // Kafka's record times start at 1970: an age that reaches before then is no time of a
      // record (and a huge one must not wrap around into the future).
      if (seconds_per > 0) {
        if (*n > millis(now) / (seconds_per * 1000)) return before_records(text);
        return millis(now) - *n * seconds_per * 1000;
      }
    }
  }
  if (const auto t = events::parse_rfc3339(text)) {
    if (millis(*t) < 0) return before_records(text);
    return millis(*t);
  }
  return Error{"bad_time", "'" + std::string(text) +
                               "' is not a time: use 90s, 15m, 2h, 7d or 2026-11-30T08:00:00Z"};
}

events::Result<PartitionOffset> parse_partition_offset(std::string_view text) {
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) {
    if (const auto o = number(text); o && *o >= 0) return PartitionOffset{std::nullopt, *o};
  } else {
    const auto p = number(text.substr(0, colon));
    const auto o = number(text.substr(colon + 1));
    if (p && o && *p >= 0 && *p <= INT32_MAX && *o >= 0) {
      return PartitionOffset{static_cast<std::int32_t>(*p), *o};
    }
  }
  return Error{"bad_offset",
               "'" + std::string(text) + "' is not an offset: use 12 or 3:12 (partition:offset)"};
}

bool type_matches(std::string_view ce_type, std::string_view type) {
  if (ce_type == type) return true;
  // bazaar.<domain>.<Name>.v<N>: the third part alone names it too.
  const auto first = ce_type.find('.');
  const auto second = first == std::string_view::npos ? first : ce_type.find('.', first + 1);
  const auto third = second == std::string_view::npos ? second : ce_type.find('.', second + 1);
  if (third == std::string_view::npos) return false;
  return ce_type.substr(second + 1, third - second - 1) == type;
}

bool Filter::matches(const Record& r) const {
  if (since_ms && r.timestamp_ms < *since_ms) return false;
  if (until_ms && r.timestamp_ms > *until_ms) return false;
  if (!type && !correlation && !subject) return true;
  if (!r.event) return false;
  if (type && !type_matches(r.event->type, *type)) return false;
  if (correlation && r.event->correlation_id != *correlation) return false;
  if (subject && r.event->subject != *subject && r.key != *subject) return false;
  return true;
}

}  // namespace bazaar::ctl
