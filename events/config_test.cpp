#include "events/config.hpp"

#include <doctest/doctest.h>

#include <CLI/CLI.hpp>
#include <boost/json/serialize.hpp>
#include <cstdlib>
#include <map>

using namespace bazaar::events;

namespace {

// Sets environment variables for one test and restores the previous values afterwards.
class Env {
 public:
  explicit Env(std::map<std::string, std::string> vars) {
    for (const char* name : kNames) {
      const char* old = std::getenv(name);
      if (old != nullptr) saved_[name] = old;
      ::unsetenv(name);
    }
    for (const auto& [k, v] : vars) ::setenv(k.c_str(), v.c_str(), 1);
  }
  ~Env() {
    for (const char* name : kNames) ::unsetenv(name);
    for (const auto& [k, v] : saved_) ::setenv(k.c_str(), v.c_str(), 1);
  }

 private:
  static constexpr const char* kNames[] = {
      "BAZAAR_KAFKA_BROKERS",    "BAZAAR_ORDER_DB", "BAZAAR_ORDER_ADMIN_PORT", "BAZAAR_LOG_LEVEL",
      "BAZAAR_TOPIC_PARTITIONS", "BAZAAR_DEV_MODE", "BAZAAR_KAFKA_COMPRESSION"};
  std::map<std::string, std::string> saved_;
};

PlatformConfig parse(std::vector<std::string> args = {}) {
  PlatformConfig cfg;
  cfg.service = "order";
  CLI::App app{"test"};
  add_platform_options(app, cfg);
  args.insert(args.begin(), "order");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  app.parse(static_cast<int>(argv.size()), argv.data());
  return cfg;
}

const std::map<std::string, std::string> kMinimal{
    {"BAZAAR_KAFKA_BROKERS", "127.0.0.1:19092"},
    {"BAZAAR_ORDER_DB", "postgresql://bazaar:s3cret@127.0.0.1:15432/bazaar_order"}};

}  // namespace

TEST_CASE("configuration is read from the service's environment variables") {
  auto vars = kMinimal;
  vars["BAZAAR_ORDER_ADMIN_PORT"] = "9105";
  vars["BAZAAR_TOPIC_PARTITIONS"] = "12";
  Env env(vars);
  const PlatformConfig cfg = parse();
  CHECK(cfg.kafka_brokers == "127.0.0.1:19092");
  CHECK(cfg.db_url == "postgresql://bazaar:s3cret@127.0.0.1:15432/bazaar_order");
  CHECK(cfg.admin_port == 9105);
  CHECK(cfg.topic_partitions == 12);
  CHECK(cfg.log_level == "info");
  CHECK(cfg.kafka_compression == "none");
  CHECK(cfg.migrations_dir.string().ends_with("services/order/migrations"));
  CHECK_FALSE(cfg.dev_mode);
}

TEST_CASE("a command-line option overrides the environment") {
  Env env(kMinimal);
  CHECK(parse({"--kafka-brokers", "10.0.0.1:9092"}).kafka_brokers == "10.0.0.1:9092");
}

TEST_CASE("the producers' compression is one librdkafka knows") {
  auto vars = kMinimal;
  vars["BAZAAR_KAFKA_COMPRESSION"] = "lz4";
  {
    Env env(vars);
    CHECK(parse().kafka_compression == "lz4");
    CHECK(boost::json::serialize(describe(parse())).find(R"("kafka_compression":"lz4")") !=
          std::string::npos);
  }
  vars["BAZAAR_KAFKA_COMPRESSION"] = "brotli";
  Env env(vars);
  CHECK_THROWS_AS((void)parse(), CLI::ValidationError);
}

TEST_CASE("a missing required setting is an error naming its variable") {
  Env env(std::map<std::string, std::string>{{"BAZAAR_KAFKA_BROKERS", "127.0.0.1:19092"}});
  try {
    (void)parse();
    FAIL("parsed without a database");
  } catch (const CLI::RequiredError& e) {
    CHECK(std::string(e.what()).find("--db") != std::string::npos);
  }
}

TEST_CASE("invalid values are rejected") {
  SUBCASE("a database that is not a PostgreSQL URL") {
    auto vars = kMinimal;
    vars["BAZAAR_ORDER_DB"] = "mysql://x";
    Env env(vars);
    CHECK_THROWS_AS((void)parse(), CLI::ValidationError);
  }
  SUBCASE("a port out of range") {
    auto vars = kMinimal;
    vars["BAZAAR_ORDER_ADMIN_PORT"] = "70000";
    Env env(vars);
    CHECK_THROWS_AS((void)parse(), CLI::ParseError);
  }
  SUBCASE("an unknown log level") {
    auto vars = kMinimal;
    vars["BAZAAR_LOG_LEVEL"] = "loud";
    Env env(vars);
    CHECK_THROWS_AS((void)parse(), CLI::ValidationError);
  }
  SUBCASE("a partition count that is not a number") {
    auto vars = kMinimal;
    vars["BAZAAR_TOPIC_PARTITIONS"] = "six";
    Env env(vars);
    CHECK_THROWS_AS((void)parse(), CLI::ParseError);
  }
}

TEST_CASE("the logged configuration never shows the database password") {
  Env env(kMinimal);
  const std::string text = boost::json::serialize(describe(parse()));
  CHECK(text.find("s3cret") == std::string::npos);
  CHECK(text.find("postgresql://bazaar:***@127.0.0.1:15432/bazaar_order") != std::string::npos);
}

TEST_CASE("redaction and prefixes") {
  CHECK(redact_url("postgresql://u:p@h/db") == "postgresql://u:***@h/db");
  CHECK(redact_url("postgresql://u:p@ss@h/db") == "postgresql://u:***@h/db");
  CHECK(redact_url("postgresql://h/db?user=u&password=s3cret&x=1") ==
        "postgresql://h/db?user=u&password=***&x=1");
  CHECK(redact_url("postgresql://u@h/db") == "postgresql://u@h/db");
  CHECK(redact_url("postgresql://u:p@/db?host=/run/pg") == "postgresql://u:***@/db?host=/run/pg");
  CHECK(redact_url("postgresql://h:5432/db") == "postgresql://h:5432/db");
  CHECK(env_prefix("order") == "BAZAAR_ORDER_");
  CHECK(env_prefix("probe-relay") == "BAZAAR_PROBE_RELAY_");
}
