#include <doctest/doctest.h>

#include "events/kafka_client.hpp"

using namespace bazaar::events;

TEST_CASE("a topic list names topics and optional partition counts") {
  const auto r = parse_topic_list("# comment\norder.events\npayment.events 3  # fewer\n\n", 6, 1);
  REQUIRE(r.ok());
  REQUIRE(r.value().size() == 2);
  CHECK(r.value()[0].name == "order.events");
  CHECK(r.value()[0].partitions == 6);
  CHECK(r.value()[1].name == "payment.events");
  CHECK(r.value()[1].partitions == 3);
  CHECK(r.value()[1].replication_factor == 1);
}

TEST_CASE("a topic list with a bad partition count is rejected with its line") {
  const auto r = parse_topic_list("a 2\nb many\n", 6, 1);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("line 2") != std::string::npos);
  CHECK_FALSE(parse_topic_list("a 0\n", 6, 1).ok());
}

TEST_CASE("a topic list line may carry topic configs") {
  const auto r = parse_topic_list(
      "identity.otp 1 retention.ms=3600000 cleanup.policy=delete\nplain\nx retention.ms=5\n", 6, 1);
  REQUIRE(r.ok());
  REQUIRE(r.value().size() == 3);
  CHECK(r.value()[0].partitions == 1);
  CHECK(r.value()[0].configs.at("retention.ms") == "3600000");
  CHECK(r.value()[0].configs.at("cleanup.policy") == "delete");
  CHECK(r.value()[1].configs.empty());
  CHECK(r.value()[2].partitions == 6);
  CHECK(r.value()[2].configs.at("retention.ms") == "5");
  CHECK_FALSE(parse_topic_list("y 2 broken\n", 6, 1).ok());
}
