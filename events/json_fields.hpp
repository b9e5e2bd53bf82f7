#pragma once

#include <boost/json/object.hpp>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "events/processor.hpp"

namespace bazaar::events {

/// The string at `key`, or empty when it is absent or not a string.
inline std::string string_or_empty(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string{};
}

/// The string at `key`. A payload without it can never be applied: PermanentError.
inline std::string required_string(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v == nullptr || !v->is_string()) {
    throw PermanentError("payload has no string field " + std::string(key));
  }
  return std::string(v->get_string());
}

/// The integer at `key`. JSON Schema's "integer" also admits 2.0 and numbers beyond 64 bits:
/// whole doubles are accepted, anything else is a PermanentError.
inline std::int64_t required_int(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (v != nullptr) {
    if (v->is_int64()) return v->get_int64();
    if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(
                                                  std::numeric_limits<std::int64_t>::max())) {
      return static_cast<std::int64_t>(v->get_uint64());
    }
    if (v->is_double()) {
      const double d = v->get_double();
      if (std::trunc(d) == d && std::fabs(d) < 9.0e18) return static_cast<std::int64_t>(d);
    }
  }
  throw PermanentError("payload has no 64-bit integer field " + std::string(key));
}

}  // namespace bazaar::events
