#pragma once

#include <optional>
#include <string_view>

namespace bazaar::events {

/// The string formats of JSON Schema that the event schemas use, as RFC 3339 defines them.
enum class StringFormat { date, time, date_time };

/// The format a schema's `format` keyword names, or nothing for one not checked here.
std::optional<StringFormat> string_format(std::string_view keyword);

/// Whether `text` is a `full-date` (2026-02-28: the day exists in that month and year), a
/// `full-time` (16:05:09, fractions and a `Z` or `+02:00` offset; second 60 for a leap second)
/// or a `date-time` (the two joined by `T`), in the letter case RFC 3339 allows.
bool follows_format(StringFormat format, std::string_view text);

/// What a validation failure says for `format`, e.g. "String should be a valid date-time".
std::string_view format_failure(StringFormat format);

}  // namespace bazaar::events
