#include "http/request_body.hpp"

#include <boost/json/parse.hpp>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

namespace bazaar::edge {
namespace {

// PostgreSQL text cannot hold NUL, and no field of ours means a control character: both are
// refused at the door, by one rule for every string, instead of failing in the database.
// Tab, line feed and carriage return stay allowed: free text (a description) may hold them.
bool has_control_character(std::string_view s) {
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t' && c != '\n' && c != '\r') || u == 0x7f) return true;
  }
  return false;
}

// The first string (member name or value) holding a control character, as a field path
// ("lines/0/product_id"); empty when there is none.
std::optional<std::string> control_character_at(const boost::json::value& v,
                                                const std::string& path) {
  if (v.is_string()) {
    if (has_control_character(v.get_string())) return path;
  } else if (v.is_array()) {
    const auto& items = v.get_array();
    for (std::size_t i = 0; i < items.size(); ++i) {
      const std::string at = path.empty() ? std::to_string(i) : path + "/" + std::to_string(i);
      if (auto found = control_character_at(items[i], at)) return found;
    }
  } else if (v.is_object()) {
    for (const auto& [name, member] : v.get_object()) {
      const std::string key(name);
      const std::string at = path.empty() ? key : path + "/" + key;
      if (has_control_character(key)) return at;
      if (auto found = control_character_at(member, at)) return found;
    }
  }
  return std::nullopt;
}

// Whether valid JSON text holds a number that is not zero but reads as zero, such as 1e-400:
// the parser keeps no literal, so an amount written that way would pass as 0.
bool has_vanishing_number(std::string_view json) {
  std::size_t i = 0;
  while (i < json.size()) {
    const char c = json[i];
    if (c == '"') {
      for (++i; i < json.size() && json[i] != '"'; ++i) {
        if (json[i] == '\\') ++i;
      }
      ++i;
      continue;
    }
    if (c != '-' && (c < '0' || c > '9')) {
      ++i;
      continue;
    }
    const std::size_t start = i;
    bool nonzero = false;
    bool negative_exponent = false;
    for (; i < json.size(); ++i) {
      const char d = json[i];
      if (d >= '1' && d <= '9') {
        nonzero = true;
      } else if (d == 'e' || d == 'E') {
        negative_exponent = i + 1 < json.size() && json[i + 1] == '-';
        break;
      } else if (d != '0' && d != '.' && d != '-') {
        break;
      }
    }
    while (i < json.size() && json[i] != ',' && json[i] != '}' && json[i] != ']' &&
           json[i] != ' ' && json[i] != '\t' && json[i] != '\n' && json[i] != '\r') {
      ++i;
    }
    if (nonzero && negative_exponent) {
      const std::string literal(json.substr(start, i - start));
      if (std::strtod(literal.c_str(), nullptr) == 0.0) return true;
    }
  }
  return false;
}

// Characters (Unicode code points) of valid UTF-8, as JSON Schema's minLength and maxLength
// count them: every byte but the continuation bytes (10xxxxxx) starts one.
std::size_t characters(std::string_view s) {
  std::size_t n = 0;
  for (const char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0U) != 0x80U) ++n;
  }
  return n;
}

// The integer a JSON number stands for: JSON has one number type, so 5.0 is the integer 5.
std::optional<std::int64_t> integer_of(const boost::json::value& v) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64()) {
    if (v.get_uint64() > static_cast<std::uint64_t>(INT64_MAX)) return std::nullopt;
    return static_cast<std::int64_t>(v.get_uint64());
  }
  if (v.is_double()) {
    const double d = v.get_double();
    // Exactly representable and inside int64: 2^63 itself is not.
    if (std::isfinite(d) && std::trunc(d) == d && d >= -9.2e18 && d <= 9.2e18) {
      return static_cast<std::int64_t>(d);
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::int64_t> json_integer(const boost::json::value& v) {
  return integer_of(v);
}

std::string media_type(const HttpRequest& request) {
  const std::string header = request.header("content-type");
  std::string type = header.substr(0, header.find(';'));
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.pop_back();
  while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.erase(0, 1);
  for (char& c : type) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return type;
}

JsonBody parse_json_body(const HttpRequest& request) {
  JsonBody out;
  const std::string type = media_type(request);
  if (!type.empty() && type != "application/json") {
    out.error = edge::problem(415, "Unsupported Media Type", "send application/json");
    return out;
  }
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(request.body, ec);
  if (ec) {
    out.error = edge::problem(400, "Bad Request", "the body is not valid JSON: " + ec.message());
    return out;
  }
  if (!v.is_object()) {
    out.error = edge::problem(400, "Bad Request", "the body must be a JSON object");
    return out;
  }
  if (has_vanishing_number(request.body)) {
    out.error = edge::problem(422, "Unprocessable Content",
                              "a number in the body is too small to tell from zero");
    return out;
  }
  if (auto field = control_character_at(v, "")) {
    out.error =
        edge::problem(422, "Unprocessable Content", *field + " must not contain control characters",
                      {{*field, "must not contain control characters"}});
    return out;
  }
  out.object = std::move(v.as_object());
  return out;
}

std::string FieldCheck::required_string(std::string_view field, std::size_t min, std::size_t max) {
  const auto* v = body_.if_contains(field);
  if (v == nullptr) {
    fail(std::string(field), "is required");
    return {};
  }
  if (!v->is_string()) {
    fail(std::string(field), "must be a string");
    return {};
  }
  const auto& s = v->get_string();
  const std::size_t length = characters(s);
  if (length < min || length > max) {
    fail(std::string(field),
         "must be " + std::to_string(min) + " to " + std::to_string(max) + " characters");
    return {};
  }
  return std::string(s);
}

std::optional<std::string> FieldCheck::optional_string(std::string_view field, std::size_t min,
                                                       std::size_t max) {
  if (!body_.contains(field)) return std::nullopt;
  const auto before = errors_.size();
  std::string s = required_string(field, min, max);
  return errors_.size() == before ? std::optional<std::string>(std::move(s)) : std::nullopt;
}

std::int64_t FieldCheck::required_int(std::string_view field, std::int64_t min, std::int64_t max) {
  const auto* v = body_.if_contains(field);
  if (v == nullptr) {
    fail(std::string(field), "is required");
    return 0;
  }
  const auto integer = integer_of(*v);
  // A whole number too large for int64 is out of range, not "not an integer".
  const bool whole = integer || v->is_uint64() ||
                     (v->is_double() && std::trunc(v->get_double()) == v->get_double());
  if (!whole) {
    fail(std::string(field), "must be an integer");
    return 0;
  }
  if (!integer || *integer < min || *integer > max) {
    fail(std::string(field),
         "must be between " + std::to_string(min) + " and " + std::to_string(max));
    return 0;
  }
  return *integer;
}

std::optional<std::int64_t> FieldCheck::optional_int(std::string_view field, std::int64_t min,
                                                     std::int64_t max) {
  if (!body_.contains(field)) return std::nullopt;
  const auto before = errors_.size();
  const std::int64_t n = required_int(field, min, max);
  return errors_.size() == before ? std::optional<std::int64_t>(n) : std::nullopt;
}

void FieldCheck::fail(std::string field, std::string reason) {
  errors_.push_back({std::move(field), std::move(reason)});
}

HttpResponse FieldCheck::problem() const {
  std::string detail;
  for (const auto& e : errors_) {
    if (!detail.empty()) detail += "; ";
    detail += e.field + " " + e.reason;
  }
  return edge::problem(422, "Unprocessable Content", detail, errors_);
}

}  // namespace bazaar::edge
