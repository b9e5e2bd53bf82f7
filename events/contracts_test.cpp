// The C++ generated from schemas/ agrees with the schemas: a struct per event type, each
// sample decoded and encoded again unchanged, and an encoding its schema accepts.
#include "contracts/contracts.hpp"

#include <doctest/doctest.h>

#include <boost/json/parse.hpp>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "events/errors.hpp"
#include "events/schema_registry.hpp"

namespace {

boost::json::value read_json(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return boost::json::parse(text.str());
}

}  // namespace

TEST_CASE("every schema has a generated type and every sample survives decode and encode") {
  const bazaar::events::SchemaRegistry registry(BAZAAR_SCHEMAS_DIR);
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
