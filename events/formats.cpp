#include "events/formats.hpp"

#include <cstddef>

namespace bazaar::events {
namespace {

/// Reads `n` digits at `pos` into `value`, moving `pos` past them.
bool digits(std::string_view s, std::size_t& pos, std::size_t n, int& value) {
  if (s.size() - pos < n) return false;
  value = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  pos += n;
  return true;
}

bool literal(std::string_view s, std::size_t& pos, char c) {
  if (pos >= s.size() || s[pos] != c) return false;
  ++pos;
  return true;
}

bool leap(int year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int days_in(int year, int month) {
  constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && leap(year) ? 29 : kDays[month - 1];
}

bool full_date(std::string_view s, std::size_t& pos) {
  int year = 0;
  int month = 0;
  int day = 0;
  return digits(s, pos, 4, year) && literal(s, pos, '-') && digits(s, pos, 2, month) &&
         month >= 1 && month <= 12 && literal(s, pos, '-') && digits(s, pos, 2, day) && day >= 1 &&
         day <= days_in(year, month);
}

bool full_time(std::string_view s, std::size_t& pos) {
  int hour = 0;
  int minute = 0;
  int second = 0;
  if (!(digits(s, pos, 2, hour) && hour <= 23 && literal(s, pos, ':') &&
        digits(s, pos, 2, minute) && minute <= 59 && literal(s, pos, ':') &&
        digits(s, pos, 2, second) && second <= 60)) {
    return false;
  }
  if (literal(s, pos, '.')) {
    const std::size_t first = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
    if (pos == first) return false;
  }
  if (literal(s, pos, 'Z') || literal(s, pos, 'z')) return true;
  if (!(literal(s, pos, '+') || literal(s, pos, '-'))) return false;
  return digits(s, pos, 2, hour) && hour <= 23 && literal(s, pos, ':') &&
         digits(s, pos, 2, minute) && minute <= 59;
}

}  // namespace

std::optional<StringFormat> string_format(std::string_view keyword) {
  if (keyword == "date") return StringFormat::date;
  if (keyword == "time") return StringFormat::time;
  if (keyword == "date-time") return StringFormat::date_time;
  return std::nullopt;
}

bool follows_format(StringFormat format, std::string_view text) {
  std::size_t pos = 0;
  bool ok = false;
  switch (format) {
    case StringFormat::date:
      ok = full_date(text, pos);
      break;
    case StringFormat::time:
      ok = full_time(text, pos);
      break;
    case StringFormat::date_time:
      ok = full_date(text, pos) && (literal(text, pos, 'T') || literal(text, pos, 't')) &&
           full_time(text, pos);
      break;
  }
  return ok && pos == text.size();
}

std::string_view format_failure(StringFormat format) {
  switch (format) {
    case StringFormat::date:
      return "String should be a valid date";
    case StringFormat::time:
      return "String should be a valid time";
    case StringFormat::date_time:
      break;
  }
  return "String should be a valid date-time";
}

}  // namespace bazaar::events
