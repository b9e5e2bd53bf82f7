#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/problem.hpp"

namespace bazaar::edge {

/// The window and grouping of a sales report: `from` and `to` are UTC days (`YYYY-MM-DD`),
/// both included.
struct SalesQuery {
  std::string from;
  std::string to;
  std::string group_by = "day";  ///< day, product or seller
  std::string currency;          ///< empty: every currency, each apart
  int limit = 100;               ///< rows at most for product and seller
};

/// The longest window a report may span.
inline constexpr int kMaxReportDays = 3660;

/// Reads `?from=&to=&group_by=&currency=&limit=` (each optional; `to` defaults to `today`,
/// `from` to 29 days before `to`). Fills `errors` with each invalid parameter, by name.
/// `with_grouping`: whether group_by and limit are accepted at all.
SalesQuery parse_sales_query(
    const std::function<std::optional<std::string>(std::string_view)>& param,
    const std::string& today, bool with_grouping, std::vector<FieldError>& errors);

/// The day `days` after (or before, when negative) `day`; nullopt unless `day` is a real
/// calendar date written `YYYY-MM-DD`.
std::optional<std::string> shift_day(std::string_view day, int days);

}  // namespace bazaar::edge
