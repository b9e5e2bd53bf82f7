#include "yaml_writer.hpp"

#include <boost/json/serialize.hpp>
#include <cctype>

namespace bazaar::tools {
namespace {

namespace json = boost::json;

bool plain_key(const std::string& key) {
  if (key.empty() || !(std::isalpha(static_cast<unsigned char>(key[0])) || key[0] == '_')) {
    return false;
  }
  for (const char c : key) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) {
      return false;
    }
  }
  return true;
}

std::string key_text(const std::string& key) {
  return plain_key(key) ? key : json::serialize(json::value(key));
}

bool scalar(const json::value& v) {
  return !(v.is_object() && !v.get_object().empty()) && !(v.is_array() && !v.get_array().empty());
}

std::string scalar_text(const json::value& v) {
  if (v.is_object()) return "{}";
  if (v.is_array()) return "[]";
  return json::serialize(v);
}

void write(std::string& out, const json::value& v, int indent);

// One map entry or sequence item whose value is `v`, after `lead` ("key:" or "-").
void write_entry(std::string& out, const std::string& lead, const json::value& v, int indent) {
  const std::string pad(static_cast<std::size_t>(indent), ' ');
  if (scalar(v)) {
    out += pad + lead + " " + scalar_text(v) + "\n";
  } else if (lead == "-" && v.is_object()) {
    // A map in a sequence starts on the dash's line.
    bool first = true;
    for (const auto& [k, item] : v.get_object()) {
      const std::string key(k);
      if (first) {
        std::string nested;
        write_entry(nested, key_text(key) + ":", item, indent + 2);
        out += pad + "- " + nested.substr(static_cast<std::size_t>(indent) + 2);
        first = false;
      } else {
        write_entry(out, key_text(key) + ":", item, indent + 2);
      }
    }
  } else {
    out += pad + lead + "\n";
    write(out, v, indent + 2);
  }
}

void write(std::string& out, const json::value& v, int indent) {
  if (v.is_object()) {
    for (const auto& [k, item] : v.get_object()) {
      write_entry(out, key_text(std::string(k)) + ":", item, indent);
    }
  } else if (v.is_array()) {
    for (const auto& item : v.get_array()) write_entry(out, "-", item, indent);
  } else {
    out += std::string(static_cast<std::size_t>(indent), ' ') + scalar_text(v) + "\n";
  }
}

}  // namespace

std::string to_yaml(const boost::json::value& v) {
  std::string out;
  write(out, v, 0);
  return out;
}

}  // namespace bazaar::tools
