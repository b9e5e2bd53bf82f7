// Contracts first: every event type in schemas/ has a sample payload in schemas/samples/ that
// its schema accepts, and every sample names a known type.
#include <doctest/doctest.h>

#include <boost/json/parse.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "events/schema_registry.hpp"

using bazaar::events::SchemaRegistry;

namespace {

boost::json::value read_json(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return boost::json::parse(text.str());
}

}  // namespace

TEST_CASE("every event type has a sample that its schema accepts") {
  const SchemaRegistry registry(BAZAAR_SCHEMAS_DIR);
  const std::filesystem::path samples = std::filesystem::path(BAZAAR_SCHEMAS_DIR) / "samples";
  REQUIRE(registry.types().size() >= 30);
  for (const auto& type : registry.types()) {
    CAPTURE(type);
    const auto file = samples / (type + ".json");
    REQUIRE_MESSAGE(std::filesystem::exists(file), "no sample for " << type);
    const auto result = registry.validate(type, read_json(file));
    CHECK_MESSAGE(result.ok(), (result.ok() ? std::string{} : result.error().message));
  }
}

TEST_CASE("every sample belongs to a known event type") {
  const SchemaRegistry registry(BAZAAR_SCHEMAS_DIR);
  for (const auto& entry :
       std::filesystem::directory_iterator(std::filesystem::path(BAZAAR_SCHEMAS_DIR) / "samples")) {
    CAPTURE(entry.path().filename().string());
    CHECK(registry.knows(entry.path().stem().string()));
  }
}

TEST_CASE("every event type is named bazaar.domain.Name.vN") {
  const SchemaRegistry registry(BAZAAR_SCHEMAS_DIR);
  for (const auto& type : registry.types()) {
    CAPTURE(type);
    CHECK(type.rfind("bazaar.", 0) == 0);
    CHECK(type.find(".v") != std::string::npos);
  }
}

TEST_CASE("a sample with a required field removed is rejected") {
  const SchemaRegistry registry(BAZAAR_SCHEMAS_DIR);
  auto sample = read_json(std::filesystem::path(BAZAAR_SCHEMAS_DIR) / "samples" /
                          "bazaar.order.PlaceOrder.v1.json");
  sample.as_object().erase("payment_token");
  CHECK_FALSE(registry.validate("bazaar.order.PlaceOrder.v1", sample).ok());
}
