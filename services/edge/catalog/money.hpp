#pragma once

#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bazaar::edge {

/// The largest amount, in major units, the API accepts: far below where a double stops
/// telling cents apart.
inline constexpr std::int64_t kMaxMajorAmount = 10'000'000'000'000;

/// Minor units (cents) of a JSON amount: a number >= 0 with at most two decimals and at most
/// kMaxMajorAmount; nullopt for anything else (strings, 12.345, negatives, NaN).
std::optional<std::int64_t> to_minor(const boost::json::value& amount);

/// Minor units of an amount written as text (a query parameter such as `12.50`).
std::optional<std::int64_t> parse_minor(std::string_view text);

/// The JSON number of an amount in minor units: 1250 -> 12.5, 1200 -> 12, 5 -> 0.05.
boost::json::value from_minor(std::int64_t minor);

/// Serialises like boost::json::serialize, but writes doubles as plain shortest decimals
/// (12.5, not Boost's 1.25E1), so prices read the way clients and people expect.
std::string to_json_text(const boost::json::value& v);

}  // namespace bazaar::edge
