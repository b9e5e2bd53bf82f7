#include "events/fields.hpp"

#include <cmath>
#include <limits>

#include "events/errors.hpp"
#include "events/uuid.hpp"

namespace bazaar::events {
namespace {

std::optional<std::int64_t> as_int64(const boost::json::value& v) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64() &&
      v.get_uint64() <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return static_cast<std::int64_t>(v.get_uint64());
  }
  if (v.is_double()) {
    const double d = v.get_double();
    if (std::trunc(d) == d && std::fabs(d) < 9.0e18) return static_cast<std::int64_t>(d);
  }
  return std::nullopt;
}

}  // namespace

Fields::Fields(const boost::json::object& object, std::string path)
    : object_(object), path_(std::move(path)) {}

Fields Fields::of(const boost::json::value& payload) {
  if (!payload.is_object()) throw PermanentError("payload is not a JSON object");
  return Fields(payload.get_object());
}

std::string Fields::path_of(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "/" + std::string(key);
}

void Fields::fail(std::string_view key, const char* expected) const {
  throw PermanentError("payload field " + path_of(key) + " must be " + expected);
}

const boost::json::value* Fields::find(std::string_view key) const {
  const auto* v = object_.if_contains(key);
  return v != nullptr && !v->is_null() ? v : nullptr;
}

std::string Fields::string(std::string_view key) const {
  if (auto s = optional_string(key)) return *std::move(s);
  fail(key, "a string");
}

std::optional<std::string> Fields::optional_string(std::string_view key) const {
  const auto* v = find(key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_string()) fail(key, "a string");
  return std::string(v->get_string());
}

std::int64_t Fields::int64(std::string_view key) const {
  if (auto n = optional_int64(key)) return *n;
  fail(key, "a 64-bit integer");
}

std::optional<std::int64_t> Fields::optional_int64(std::string_view key) const {
  const auto* v = find(key);
  if (v == nullptr) return std::nullopt;
  if (auto n = as_int64(*v)) return n;
  fail(key, "a 64-bit integer");
}

double Fields::number(std::string_view key) const {
  if (auto n = optional_number(key)) return *n;
  fail(key, "a number");
}

std::optional<double> Fields::optional_number(std::string_view key) const {
  const auto* v = find(key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_number()) fail(key, "a number");
  return v->to_number<double>();
}

bool Fields::boolean(std::string_view key) const {
  if (auto b = optional_boolean(key)) return *b;
  fail(key, "true or false");
}

std::optional<bool> Fields::optional_boolean(std::string_view key) const {
  const auto* v = find(key);
  if (v == nullptr) return std::nullopt;
  if (!v->is_bool()) fail(key, "true or false");
  return v->get_bool();
}

const boost::json::array& Fields::array(std::string_view key) const {
  if (const auto* a = optional_array(key)) return *a;
  fail(key, "an array");
}

const boost::json::array* Fields::optional_array(std::string_view key) const {
  const auto* v = find(key);
  if (v == nullptr) return nullptr;
  if (!v->is_array()) fail(key, "an array");
  return &v->get_array();
}

const boost::json::object& Fields::object(std::string_view key) const {
  if (const auto* o = optional_object(key)) return *o;
  fail(key, "an object");
}

const boost::json::object* Fields::optional_object(std::string_view key) const {
  const auto* v = find(key);
  if (v == nullptr) return nullptr;
  if (!v->is_object()) fail(key, "an object");
  return &v->get_object();
}

Fields Fields::nested(std::string_view key) const {
  return Fields(object(key), path_of(key));
}

Fields Fields::item(const boost::json::array& items, std::size_t index, const std::string& path) {
  const std::string at = path + "/" + std::to_string(index);
  if (index >= items.size() || !items[index].is_object()) {
    throw PermanentError("payload field " + at + " must be an object");
  }
  return Fields(items[index].get_object(), at);
}

std::optional<std::string> uuid_at(const boost::json::object& data, std::string_view field) {
  const auto* value = data.if_contains(field);
  if (value == nullptr || !value->is_string()) return std::nullopt;
  const auto id = Uuid::parse(value->get_string());
  return id ? std::optional<std::string>(id->str()) : std::nullopt;
}

}  // namespace bazaar::events
