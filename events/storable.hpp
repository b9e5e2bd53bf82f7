#pragma once

#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace bazaar::events {

/// A value in a payload that no column of ours can hold, found by find_unstorable().
struct UnstorableValue {
  std::string field;    ///< its path, "lines/0/quantity" (a member name at fault: its own path)
  std::string problem;  ///< "must not contain control characters", ...

  /// "<field> <problem>", for rejection events and dead-letter headers; never the value.
  std::string message() const { return field + " " + problem; }
};

/// True when `s` holds a control character other than tab, line feed and carriage return:
/// PostgreSQL text cannot hold NUL, and no field of ours means any of the others (free text
/// keeps its tabs and line breaks).
bool has_control_character(std::string_view s);

/// The first value of `payload` that no column of ours can hold, or nullopt: a string or member
/// name with a control character (has_control_character), or a number beyond what a 64-bit
/// integer holds (integer columns are bigint and money is int64 minor units; no number field of
/// ours means anything that large either). The same rule as edge's for request bodies, so a
/// command produced straight to a topic is held to what the HTTP API would have accepted.
std::optional<UnstorableValue> find_unstorable(const boost::json::value& payload);

}  // namespace bazaar::events
