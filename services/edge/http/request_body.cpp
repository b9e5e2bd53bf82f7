#include "http/request_body.hpp"

#include <boost/json/parse.hpp>
#include <optional>
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

}  // namespace

JsonBody parse_json_body(const HttpRequest& request) {
  JsonBody out;
  const std::string type = request.header("content-type");
  if (!type.empty() && type.rfind("application/json", 0) != 0) {
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
  if (s.size() < min || s.size() > max) {
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
  std::int64_t n = 0;
  if (v->is_int64()) {
    n = v->get_int64();
  } else if (v->is_uint64() && v->get_uint64() <= static_cast<std::uint64_t>(max)) {
    n = static_cast<std::int64_t>(v->get_uint64());
  } else {
    fail(std::string(field), "must be an integer");
    return 0;
  }
  if (n < min || n > max) {
    fail(std::string(field),
         "must be between " + std::to_string(min) + " and " + std::to_string(max));
    return 0;
  }
  return n;
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
