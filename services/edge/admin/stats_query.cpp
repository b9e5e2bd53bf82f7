#include "admin/stats_query.hpp"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>

namespace bazaar::edge {
namespace {

std::optional<std::chrono::sys_days> parse_day(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  // Digits only (from_chars would take a sign), and from year 1: PostgreSQL has no year 0.
  for (const std::size_t at : {0UL, 1UL, 2UL, 3UL, 5UL, 6UL, 8UL, 9UL}) {
    if (text[at] < '0' || text[at] > '9') return std::nullopt;
  }
  int y = 0;
  unsigned m = 0;
  unsigned d = 0;
  const auto num = [&](std::size_t at, std::size_t len, auto& out) {
    const auto* first = text.data() + at;
    const auto [end, ec] = std::from_chars(first, first + len, out);
    return ec == std::errc{} && end == first + len;
  };
  if (!num(0, 4, y) || !num(5, 2, m) || !num(8, 2, d)) return std::nullopt;
  const std::chrono::year_month_day ymd{std::chrono::year{y}, std::chrono::month{m},
                                        std::chrono::day{d}};
  if (y < 1 || !ymd.ok()) return std::nullopt;
  return std::chrono::sys_days{ymd};
}

std::string format_day(std::chrono::sys_days day) {
  const std::chrono::year_month_day ymd{day};
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buf;
}

bool is_currency(std::string_view c) {
  return c.size() == 3 && c.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") == std::string::npos;
}

}  // namespace

std::optional<std::string> shift_day(std::string_view day, int days) {
  const auto parsed = parse_day(day);
  if (!parsed) return std::nullopt;
  return format_day(*parsed + std::chrono::days{days});
}

SalesQuery parse_sales_query(
    const std::function<std::optional<std::string>(std::string_view)>& param,
    const std::string& today, bool with_grouping, std::vector<FieldError>& errors) {
  SalesQuery q;
  const std::size_t before = errors.size();
  q.to = param("to").value_or(today);
  const bool to_ok = parse_day(q.to).has_value();
  if (!to_ok) errors.push_back({"to", "must be a date written YYYY-MM-DD"});
  if (const auto from = param("from")) {
    q.from = *from;
    if (!parse_day(q.from)) errors.push_back({"from", "must be a date written YYYY-MM-DD"});
  } else if (to_ok) {
    // Never before the first day the database holds (a window ending in January of year 1).
    q.from = std::max(*shift_day(q.to, -29), std::string("0001-01-01"));
  }
  if (errors.size() == before) {
    const auto span = (*parse_day(q.to) - *parse_day(q.from)).count();
    if (span < 0) errors.push_back({"from", "must not be after to"});
    if (span >= kMaxReportDays) {
      errors.push_back(
          {"from", "the window may span at most " + std::to_string(kMaxReportDays) + " days"});
    }
  }
  if (const auto c = param("currency")) {
    q.currency = *c;
    if (!is_currency(q.currency)) {
      errors.push_back({"currency", "must be three capital letters (ISO 4217)"});
    }
  }
  if (!with_grouping) return q;
  if (const auto g = param("group_by")) {
    q.group_by = *g;
    if (q.group_by != "day" && q.group_by != "product" && q.group_by != "seller") {
      errors.push_back({"group_by", "must be day, product or seller"});
    }
  }
  if (const auto l = param("limit")) {
    int n = 0;
    const auto [end, ec] = std::from_chars(l->data(), l->data() + l->size(), n);
    if (ec != std::errc{} || end != l->data() + l->size() || n < 1 || n > 1000) {
      errors.push_back({"limit", "must be an integer from 1 to 1000"});
    } else {
      q.limit = n;
    }
  }
  return q;
}

}  // namespace bazaar::edge
