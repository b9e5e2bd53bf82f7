#pragma once

#include <boost/json/value.hpp>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "events/result.hpp"

namespace valijson {
class Schema;
}

namespace bazaar::events {

/// The JSON Schemas (draft-07) of every event type, loaded once at start-up from a folder
/// whose files are named `<ce_type>.json`. Safe to use from several threads once loaded.
class SchemaRegistry {
 public:
  /// Loads every `*.json` of `dir`; throws std::runtime_error naming a file that is unreadable
  /// or not a valid schema, because a service must not start with a broken contract.
  explicit SchemaRegistry(const std::filesystem::path& dir);
  ~SchemaRegistry();
  SchemaRegistry(const SchemaRegistry&) = delete;
  SchemaRegistry& operator=(const SchemaRegistry&) = delete;

  bool knows(const std::string& type) const { return schemas_.contains(type); }
  std::vector<std::string> types() const;
  /// Ok, or an Error (`unknown_type` or `schema_violation`) whose message names each failing
  /// JSON path.
  Result<void> validate(const std::string& type, const boost::json::value& payload) const;

 private:
  struct Entry;
  std::map<std::string, std::unique_ptr<Entry>> schemas_;
};

}  // namespace bazaar::events
