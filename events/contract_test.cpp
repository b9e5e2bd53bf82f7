// Contracts first: every event type in schemas/ has a sample payload in schemas/samples/ that
// its schema accepts, every sample names a known type, and the C++ generated from schemas/
// decodes and encodes each sample unchanged.
#include <doctest/doctest.h>

#include <boost/json/parse.hpp>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "contracts/contracts.hpp"
#include "events/errors.hpp"
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
  CHECK(registry.validate("bazaar.order.PlaceOrder.v1", sample).ok());
  sample.as_object().erase("buyer_id");
  CHECK_FALSE(registry.validate("bazaar.order.PlaceOrder.v1", sample).ok());
}

TEST_CASE("every schema has a generated type and every sample survives decode and encode") {
  const SchemaRegistry registry(BAZAAR_SCHEMAS_DIR);
  const auto& generated = bazaar::contracts::all_types();
  const auto known = registry.types();
  CHECK(std::set<std::string>(generated.begin(), generated.end()) ==
        std::set<std::string>(known.begin(), known.end()));
  for (const auto type : generated) {
    CAPTURE(type);
    const auto sample = read_json(std::filesystem::path(BAZAAR_SCHEMAS_DIR) / "samples" /
                                  (std::string(type) + ".json"));
    const auto again = bazaar::contracts::round_trip(type, sample);
    REQUIRE(again);
    CHECK(boost::json::value(*again) == sample);
    CHECK(registry.validate(std::string(type), *again).ok());
  }
}

TEST_CASE("a payload missing a required field names it") {
  auto sample = read_json(std::filesystem::path(BAZAAR_SCHEMAS_DIR) / "samples" /
                          "bazaar.order.PlaceOrder.v1.json");
  sample.as_object()["lines"].as_array()[0].as_object().erase("quantity");
  CHECK_THROWS_WITH_AS(bazaar::contracts::order::PlaceOrderV1::from(sample),
                       "payload field lines/0/quantity must be a 64-bit integer",
                       bazaar::events::PermanentError);
  CHECK_THROWS_AS(bazaar::contracts::order::PlaceOrderV1::from(boost::json::value(3)),
                  bazaar::events::PermanentError);
}

TEST_CASE("topics come from topics.tsv") {
  CHECK(std::string(bazaar::contracts::topic::kOrderEvents) == "order.events");
  CHECK(std::string(bazaar::contracts::topic::kIdentityOtp) == "identity.otp");
  CHECK(bazaar::contracts::dead_letter_topic("order") == "dlq.order");
}
