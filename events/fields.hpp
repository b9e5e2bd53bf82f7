#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace bazaar::events {

/// Reads the fields of a JSON object (an event payload or a part of one), with one error
/// behaviour: a missing or mistyped field throws PermanentError naming its path
/// ("lines/0/quantity"), so the record goes to the dead-letter topic with the reason.
/// Unknown fields are ignored (consumers tolerate additions).
class Fields {
 public:
  /// Reads `object`; `path` prefixes the names in error messages.
  explicit Fields(const boost::json::object& object, std::string path = {});
  /// The object a payload holds; PermanentError when it is not one.
  static Fields of(const boost::json::value& payload);

  std::string string(std::string_view key) const;
  std::optional<std::string> optional_string(std::string_view key) const;
  /// JSON Schema's "integer" also admits 2.0: whole doubles within 64 bits are accepted.
  std::int64_t int64(std::string_view key) const;
  std::optional<std::int64_t> optional_int64(std::string_view key) const;
  double number(std::string_view key) const;
  std::optional<double> optional_number(std::string_view key) const;
  bool boolean(std::string_view key) const;
  std::optional<bool> optional_boolean(std::string_view key) const;
  const boost::json::array& array(std::string_view key) const;
  const boost::json::array* optional_array(std::string_view key) const;
  const boost::json::object& object(std::string_view key) const;
  const boost::json::object* optional_object(std::string_view key) const;
  /// The fields of the object at `key`, or of the `index`th item of an array.
  Fields nested(std::string_view key) const;
  static Fields item(const boost::json::array& items, std::size_t index, const std::string& path);

  /// The path of `key` in this object, for messages.
  std::string path_of(std::string_view key) const;
  const std::string& path() const { return path_; }
  const boost::json::object& raw() const { return object_; }

 private:
  [[noreturn]] void fail(std::string_view key, const char* expected) const;
  const boost::json::value* find(std::string_view key) const;

  const boost::json::object& object_;
  std::string path_;
};

/// The uuid in `field` of `data` in canonical form, if it holds one; nullopt for anything else,
/// never an error: for a look at a batch before its records are applied (taking their locks
/// ahead), where a wrong field is left to the record's own handling.
std::optional<std::string> uuid_at(const boost::json::object& data, std::string_view field);

}  // namespace bazaar::events
