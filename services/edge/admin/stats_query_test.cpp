#include "admin/stats_query.hpp"

#include <doctest/doctest.h>

#include <map>

using namespace bazaar::edge;

namespace {

SalesQuery parse(const std::map<std::string, std::string>& params, std::vector<FieldError>& errors,
                 bool with_grouping = true) {
  return parse_sales_query(
      [&](std::string_view name) -> std::optional<std::string> {
        const auto it = params.find(std::string(name));
        if (it == params.end()) return std::nullopt;
        return it->second;
      },
      "2026-11-30", with_grouping, errors);
}

std::vector<std::string> fields(const std::vector<FieldError>& errors) {
  std::vector<std::string> out;
  for (const auto& e : errors) out.push_back(e.field);
  return out;
}

}  // namespace

TEST_CASE("a sales report defaults to the last thirty days by day, every currency") {
  std::vector<FieldError> errors;
  const auto q = parse({}, errors);
  CHECK(errors.empty());
  CHECK(q.from == "2026-11-01");
  CHECK(q.to == "2026-11-30");
  CHECK(q.group_by == "day");
  CHECK(q.currency.empty());
  CHECK(q.limit == 100);
}

TEST_CASE("a sales report takes its window, grouping, currency and limit") {
  std::vector<FieldError> errors;
  const auto q = parse({{"from", "2024-02-29"},
                        {"to", "2024-03-01"},
                        {"group_by", "seller"},
                        {"currency", "USD"},
                        {"limit", "5"}},
                       errors);
  CHECK(errors.empty());
  CHECK(q.from == "2024-02-29");
  CHECK(q.group_by == "seller");
  CHECK(q.currency == "USD");
  CHECK(q.limit == 5);
  // `to` alone moves the default `from` with it.
  const auto only_to = parse({{"to", "2026-03-01"}}, errors);
  CHECK(only_to.from == "2026-01-31");
}

TEST_CASE("each bad parameter of a sales report is named") {
  std::vector<FieldError> errors;
  parse({{"from", "2026-02-30"},
         {"to", "30/11/2026"},
         {"group_by", "week"},
         {"currency", "eur"},
         {"limit", "0"}},
        errors);
  CHECK(fields(errors) == std::vector<std::string>{"to", "from", "currency", "group_by", "limit"});
  errors.clear();
  parse({{"from", "2026-12-01"}}, errors);
  CHECK(fields(errors) == std::vector<std::string>{"from"});
  errors.clear();
  parse({{"from", "2000-01-01"}}, errors);
  CHECK(fields(errors) == std::vector<std::string>{"from"});
  errors.clear();
  parse({{"limit", "12abc"}, {"from", "2026-1-01"}}, errors);
  CHECK(fields(errors) == std::vector<std::string>{"from", "limit"});
  errors.clear();
  // Where grouping is not offered, group_by is not read at all.
  parse({{"group_by", "week"}}, errors, false);
  CHECK(errors.empty());
}

TEST_CASE("a day PostgreSQL cannot hold is refused, not sent to it") {
  // Year 0 and signed years pass std::chrono, and the database would fail on them.
  for (const char* day : {"0000-01-01", "-001-01-01", "+202-01-01", "20 6-01-01", "2026-+1-01"}) {
    CAPTURE(day);
    std::vector<FieldError> errors;
    parse({{"from", day}, {"to", day}}, errors);
    CHECK(fields(errors) == std::vector<std::string>{"to", "from"});
    CHECK_FALSE(shift_day(day, 0));
  }
  CHECK(shift_day("0001-01-01", 0) == "0001-01-01");
  // The default window of a report ending early in year 1 starts on its first day.
  std::vector<FieldError> errors;
  const auto q = parse({{"to", "0001-01-05"}}, errors);
  CHECK(errors.empty());
  CHECK(q.from == "0001-01-01");
}

TEST_CASE("days shift across months and leap years") {
  CHECK(shift_day("2024-03-01", -1) == "2024-02-29");
  CHECK(shift_day("2026-12-31", 1) == "2027-01-01");
  CHECK_FALSE(shift_day("2026-13-01", 0));
}
