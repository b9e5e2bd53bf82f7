#include "http/request_body.hpp"

#include <boost/json/parse.hpp>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

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

// Where a scan of JSON text stands: the members and items around it, as a field path.
class JsonPath {
 public:
  void open(char bracket) { levels_.push_back({bracket == '{', {}, 0}); }
  void close() {
    if (!levels_.empty()) levels_.pop_back();
  }
  void next_item() {
    if (!levels_.empty()) ++levels_.back().index;
  }
  bool expects_name(std::size_t last_token_end, std::string_view json) const {
    if (levels_.empty() || !levels_.back().object) return false;
    // A string right after '{' or ',' (whitespace aside) is a member's name.
    std::size_t j = last_token_end;
    while (j > 0 && (json[j - 1] == ' ' || json[j - 1] == '\t' || json[j - 1] == '\n' ||
                     json[j - 1] == '\r')) {
      --j;
    }
    return j > 0 && (json[j - 1] == '{' || json[j - 1] == ',');
  }
  void name(std::string member) {
    if (!levels_.empty()) levels_.back().name = std::move(member);
  }
  std::string str() const {
    std::string out;
    for (const auto& l : levels_) {
      if (!out.empty()) out += "/";
      out += l.object ? l.name : std::to_string(l.index);
    }
    return out;
  }

 private:
  struct Level {
    bool object;
    std::string name;  // of the member being read
    std::size_t index;
  };
  std::vector<Level> levels_;
};

// Moves i past the string token starting at json[i] (a quote). With `text`, keeps its text,
// unescaped only as far as a field path needs: escapes other than \" and \\ stay as written.
void skip_string(std::string_view json, std::size_t& i, std::string* text) {
  for (++i; i < json.size() && json[i] != '"'; ++i) {
    if (json[i] == '\\' && i + 1 < json.size()) {
      ++i;
      if (text != nullptr && json[i] != '"' && json[i] != '\\') text->push_back('\\');
    }
    if (text != nullptr) text->push_back(json[i]);
  }
  ++i;
}

// The field path of the first number in valid JSON text that is not zero but reads as zero
// (1e-400, or 0. and four hundred zeros and a 1): the parser keeps no literal, so such an
// amount would pass as 0. nullopt when there is none.
std::optional<std::string> vanishing_number_at(std::string_view json) {
  JsonPath path;
  std::size_t i = 0;
  while (i < json.size()) {
    const char c = json[i];
    if (c == '"') {
      // Only a member's name is kept: values are skipped without a copy.
      if (path.expects_name(i, json)) {
        std::string name;
        skip_string(json, i, &name);
        path.name(std::move(name));
      } else {
        skip_string(json, i, nullptr);
      }
    } else if (c == '{' || c == '[') {
      path.open(c);
      ++i;
    } else if (c == '}' || c == ']') {
      path.close();
      ++i;
    } else if (c == ',') {
      path.next_item();
      ++i;
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      const std::size_t start = i;
      while (i < json.size() && json[i] != ',' && json[i] != '}' && json[i] != ']' &&
             json[i] != ' ' && json[i] != '\t' && json[i] != '\n' && json[i] != '\r') {
        ++i;
      }
      if (number_vanishes(json.substr(start, i - start))) return path.str();
    } else {
      ++i;
    }
  }
  return std::nullopt;
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

bool number_vanishes(std::string_view literal) {
  bool nonzero = false;
  bool exact = true;  // an integer never vanishes
  for (const char c : literal) {
    if (c == 'e' || c == 'E' || c == '.') exact = false;
    if (c == 'e' || c == 'E') break;
    if (c >= '1' && c <= '9') nonzero = true;
  }
  if (!nonzero || exact) return false;
  const std::string text(literal);
  return std::strtod(text.c_str(), nullptr) == 0.0;
}

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
  if (auto field = vanishing_number_at(request.body)) {
    out.error =
        edge::problem(422, "Unprocessable Content", *field + " is too small to tell from zero",
                      {{*field, "is too small to tell from zero"}});
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
