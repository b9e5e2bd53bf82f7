#include "catalog/money.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <cmath>
#include <limits>

#include "http/request_body.hpp"

namespace bazaar::edge {

std::optional<std::int64_t> to_minor(const boost::json::value& amount) {
  if (amount.is_int64()) {
    const std::int64_t major = amount.get_int64();
    if (major < 0 || major > kMaxMajorAmount) return std::nullopt;
    return major * 100;
  }
  if (amount.is_uint64()) {
    // Boost.JSON only stores numbers above INT64_MAX as uint64: always too large.
    return std::nullopt;
  }
  if (!amount.is_double()) return std::nullopt;
  const double major = amount.get_double();
  if (!std::isfinite(major) || major < 0.0 || major > static_cast<double>(kMaxMajorAmount)) {
    return std::nullopt;
  }
  // 19.99 parses to 19.989999..., so times 100 it is a hair off 1999: the cents are the nearest
  // whole number, and the amount is whole cents exactly when its double is the one nearest to
  // that many hundredths (as JSON Schema's multipleOf 0.01 judges it). A third decimal
  // (12.345, or 4560061503819.432 where doubles are a thousandth apart) never is.
  const double cents = std::nearbyint(major * 100.0);
  if (cents / 100.0 != major) return std::nullopt;
  return static_cast<std::int64_t>(cents);
}

std::optional<std::int64_t> parse_minor(std::string_view text) {
  // Only the characters of a JSON number: the parser must not accept `[1]`, `true` or `null`.
  if (text.empty() || text.size() > 32) return std::nullopt;
  for (const char c : text) {
    const bool allowed =
        (c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-';
    if (!allowed) return std::nullopt;
  }
  if (number_vanishes(text)) return std::nullopt;
  boost::system::error_code ec;
  const boost::json::value v = boost::json::parse(text, ec);
  if (ec) return std::nullopt;
  return to_minor(v);
}

boost::json::value from_minor(std::int64_t minor) {
  if (minor % 100 == 0) return boost::json::value(minor / 100);
  return boost::json::value(static_cast<double>(minor) / 100.0);
}

namespace {

void write(const boost::json::value& v, std::string& out) {
  switch (v.kind()) {
    case boost::json::kind::object: {
      out.push_back('{');
      bool first = true;
      for (const auto& [key, member] : v.get_object()) {
        if (!first) out.push_back(',');
        first = false;
        out += boost::json::serialize(boost::json::string_view(key));
        out.push_back(':');
        write(member, out);
      }
      out.push_back('}');
      return;
    }
    case boost::json::kind::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& element : v.get_array()) {
        if (!first) out.push_back(',');
        first = false;
        write(element, out);
      }
      out.push_back(']');
      return;
    }
    case boost::json::kind::double_: {
      const double d = v.get_double();
      if (!std::isfinite(d)) {
        out += "null";  // JSON has no NaN or infinity
        return;
      }
      char buf[64];
      const auto res = std::to_chars(buf, buf + sizeof buf, d);
      out.append(buf, res.ptr);
      return;
    }
    default:
      out += boost::json::serialize(v);
      return;
  }
}

}  // namespace

std::string to_json_text(const boost::json::value& v) {
  std::string out;
  write(v, out);
  return out;
}

}  // namespace bazaar::edge
