#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace bazaar::edge {

/// A request target cut at the first `?` (a `#fragment`, which clients should not send, is
/// dropped).
struct TargetParts {
  std::string_view path;   ///< still percent-encoded
  std::string_view query;  ///< without the `?`, still encoded; empty when there is none
};

/// Splits an origin-form (`/a?b`) or absolute-form (`http://host/a?b`) target.
TargetParts split_target(std::string_view target);

/// Decodes `%XX` escapes (and `+` as a space when `plus_is_space`); nullopt for a truncated or
/// non-hex escape, an encoded NUL, or bytes that are not UTF-8: no legitimate path or parameter
/// holds them, and the database could not.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space = false);

/// Decodes `a=1&b=x+y&a=2` (also an `application/x-www-form-urlencoded` body) into its pairs,
/// keeping repeated names; a name without `=` has an empty value. nullopt on a malformed escape.
std::optional<std::multimap<std::string, std::string>> parse_query(std::string_view query);

}  // namespace bazaar::edge
