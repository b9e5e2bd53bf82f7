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

namespace bazaar::events {

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
    const boost::json::value doc = boost::json::parse(text.str(), ec);
    if (ec) throw std::runtime_error("schema " + entry.path().string() + ": " + ec.message());
    auto schema = std::make_unique<valijson::Schema>();
    try {
      valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
      valijson::adapters::BoostJsonAdapter adapter(doc);
      parser.populateSchema(adapter, *schema);
    } catch (const std::exception& e) {
      throw std::runtime_error("schema " + entry.path().string() + ": " + e.what());
    }
    schemas_.emplace(entry.path().stem().string(), std::move(schema));
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
  // valijson throws instead of reporting when a value under `format` is not a string (an array
  // where a date-time belongs): that payload is invalid, and no reason to stop a consumer.
  try {
    if (validator.validate(*it->second, target, &results)) return {};
  } catch (const std::runtime_error& e) {
    return Error{"schema_violation", std::string("a value of the wrong kind: ") + e.what()};
  }
  // valijson reports each failure twice: where it happened, and again at every parent as
  // "failed to validate against schema associated with property". Keep the innermost ones.
  std::vector<std::pair<std::string, std::string>> failures;
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
