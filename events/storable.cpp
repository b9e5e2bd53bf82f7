#include "events/storable.hpp"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>

namespace bazaar::events {
namespace {

constexpr const char* kControl = "must not contain control characters";
constexpr const char* kTooLarge = "is beyond what a 64-bit integer holds";
// Boost.JSON reads a zero with an exponent beyond a double's (0E750) as NaN, which it would write
// back as `NaN`, not JSON.
constexpr const char* kNotFinite = "is not a finite number";
constexpr std::size_t kMaxShownName = 64;  // characters of a member name shown in a path

bool is_control(unsigned char u) {
  return (u < 0x20 && u != '\t' && u != '\n' && u != '\r') || u == 0x7f;
}

// A member name as a path segment that is itself storable: control characters escaped as
// \u00XX, and a long name cut (at a character boundary, so the text stays UTF-8).
std::string shown(std::string_view name) {
  std::string out;
  std::size_t characters = 0;
  for (const char c : name) {
    const auto u = static_cast<unsigned char>(c);
    const bool starts_character = (u & 0xc0) != 0x80;
    if (starts_character && characters++ == kMaxShownName) {
      out += "...";
      break;
    }
    if (is_control(u)) {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(u));
      out += escaped;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string child(const std::string& path, std::string_view segment) {
  return path.empty() ? std::string(segment) : path + "/" + std::string(segment);
}

// Boost.JSON keeps integers within int64 as int64, larger ones up to 2^64 as uint64, and any
// number beyond as a double; every double of 2^63 or more in magnitude is beyond int64.
bool beyond_int64(const boost::json::value& v) {
  if (v.is_uint64()) {
    return v.get_uint64() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  }
  if (v.is_double()) return std::fabs(v.get_double()) >= 9223372036854775808.0;
  return false;
}

std::optional<UnstorableValue> find_at(const boost::json::value& v, const std::string& path) {
  if (v.is_string()) {
    if (has_control_character(v.get_string())) return UnstorableValue{path, kControl};
  } else if (v.is_number()) {
    if (v.is_double() && std::isnan(v.get_double())) return UnstorableValue{path, kNotFinite};
    if (beyond_int64(v)) return UnstorableValue{path, kTooLarge};
  } else if (v.is_array()) {
    const auto& items = v.get_array();
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (auto found = find_at(items[i], child(path, std::to_string(i)))) return found;
    }
  } else if (v.is_object()) {
    for (const auto& [name, member] : v.get_object()) {
      const std::string at = child(path, shown(name));
      if (has_control_character(name)) return UnstorableValue{at, kControl};
      if (auto found = find_at(member, at)) return found;
    }
  }
  return std::nullopt;
}

}  // namespace

bool has_control_character(std::string_view s) {
  for (const char c : s) {
    if (is_control(static_cast<unsigned char>(c))) return true;
  }
  return false;
}

std::optional<UnstorableValue> find_unstorable(const boost::json::value& payload) {
  return find_at(payload, {});
}

}  // namespace bazaar::events
