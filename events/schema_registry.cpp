#include "events/schema_registry.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <valijson/adapters/boost_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include "events/formats.hpp"

namespace bazaar::events {
namespace {

/// A property whose string value has a `format` this registry checks itself.
struct FormattedProperty {
  std::vector<std::string> path;  ///< property names from the payload's root
  StringFormat format;
};

/// Takes the date and time formats off the properties reachable from the root through
/// `properties` and lists them: valijson compiles a std::regex for every value it checks
/// against one (half a millisecond each), where a hand-written check costs nanoseconds.
/// Formats anywhere else stay with valijson.
void take_formats(boost::json::object& schema, std::vector<std::string>& path,
                  std::vector<FormattedProperty>& out) {
  if (const auto* keyword = schema.if_contains("format");
      keyword != nullptr && keyword->is_string()) {
    if (const auto format = string_format(keyword->get_string()); format && !path.empty()) {
      out.push_back({path, *format});
      schema.erase("format");
    }
  }
  auto* properties = schema.if_contains("properties");
  if (properties == nullptr || !properties->is_object()) return;
  for (auto& [name, sub] : properties->get_object()) {
    if (!sub.is_object()) continue;
    path.emplace_back(name);
    take_formats(sub.get_object(), path, out);
    path.pop_back();
  }
}

/// The value at `path` in `payload`, when every step is an object holding the next name.
const boost::json::value* find_path(const boost::json::value& payload,
                                    const std::vector<std::string>& path) {
  const boost::json::value* at = &payload;
  for (const auto& name : path) {
    if (!at->is_object()) return nullptr;
    at = at->get_object().if_contains(name);
    if (at == nullptr) return nullptr;
  }
  return at;
}

}  // namespace

struct SchemaRegistry::Entry {
  valijson::Schema schema;
  std::vector<FormattedProperty> formatted;
};

SchemaRegistry::SchemaRegistry(const std::filesystem::path& dir) {
  if (!std::filesystem::is_directory(dir)) {
    throw std::runtime_error("schema folder not found: " + dir.string());
  }
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (!entry.is_regular_file() || entry.path().extension() != ".json") continue;
    std::ifstream in(entry.path());
    std::stringstream text;
    text << in.rdbuf();
    boost::system::error_code ec;
    boost::json::value doc = boost::json::parse(text.str(), ec);
    if (ec) throw std::runtime_error("schema " + entry.path().string() + ": " + ec.message());
    auto loaded = std::make_unique<Entry>();
    if (doc.is_object()) {
      std::vector<std::string> path;
      take_formats(doc.get_object(), path, loaded->formatted);
    }
    try {
      valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
      valijson::adapters::BoostJsonAdapter adapter(doc);
      parser.populateSchema(adapter, loaded->schema);
    } catch (const std::exception& e) {
      throw std::runtime_error("schema " + entry.path().string() + ": " + e.what());
    }
    schemas_.emplace(entry.path().stem().string(), std::move(loaded));
  }
}

SchemaRegistry::~SchemaRegistry() = default;

std::vector<std::string> SchemaRegistry::types() const {
  std::vector<std::string> out;
  out.reserve(schemas_.size());
  for (const auto& [type, schema] : schemas_) out.push_back(type);
  return out;
}

Result<void> SchemaRegistry::validate(const std::string& type,
                                      const boost::json::value& payload) const {
  const auto it = schemas_.find(type);
  if (it == schemas_.end()) return Error{"unknown_type", "no schema for event type " + type};
  // The validator caches each `pattern` it compiled; a fresh one per call compiled every
  // pattern of the schema again for every event. One per thread keeps it safe to share.
  thread_local valijson::Validator validator;
  valijson::ValidationResults results;
  valijson::adapters::BoostJsonAdapter target(payload);
  std::vector<std::pair<std::string, std::string>> failures;
  for (const auto& property : it->second->formatted) {
    const auto* value = find_path(payload, property.path);
    // A format constrains strings only; a value of another kind breaks the `type` beside it.
    if (value == nullptr || !value->is_string()) continue;
    if (follows_format(property.format, value->get_string())) continue;
    std::string pointer;
    for (const auto& name : property.path) pointer.append("/").append(name);
    failures.emplace_back(pointer, format_failure(property.format));
  }
  // valijson throws instead of reporting when a value under `format` is not a string (an array
  // where a date-time belongs): that payload is invalid, and no reason to stop a consumer.
  try {
    if (validator.validate(it->second->schema, target, &results) && failures.empty()) return {};
  } catch (const std::runtime_error& e) {
    return Error{"schema_violation", std::string("a value of the wrong kind: ") + e.what()};
  }
  // valijson reports each failure twice: where it happened, and again at every parent as
  // "failed to validate against schema associated with property". Keep the innermost ones.
  valijson::ValidationResults::Error error;
  while (results.popError(error)) {
    std::string pointer;
    for (const auto& segment : error.context) {
      if (segment == "<root>") continue;
      pointer.push_back('/');
      const bool bracketed = segment.size() >= 2 && segment.front() == '[' && segment.back() == ']';
      pointer.append(bracketed ? segment.substr(1, segment.size() - 2) : segment);
    }
    failures.emplace_back(pointer.empty() ? "/" : pointer, error.description);
  }
  const bool any_nested =
      std::any_of(failures.begin(), failures.end(), [](const auto& f) { return f.first != "/"; });
  std::string message;
  for (const auto& [pointer, description] : failures) {
    if (any_nested && pointer == "/" &&
        description.rfind("Failed to validate against schema associated", 0) == 0) {
      continue;
    }
    if (!message.empty()) message.append("; ");
    message.append(pointer);
    message.append(": ");
    message.append(description);
  }
  return Error{"schema_violation", message};
}

}  // namespace bazaar::events
