// A client no one here wrote: openapi-python-client (pinned, in the virtual environment
// scripts/setup makes) generates a Python client from schemas/openapi.yaml at test time, and
// generated_client_seed.py runs the seed workflow with it against the real edge: register, sign
// in, list a product, order with an Idempotency-Key, wait for CONFIRMED, read the history.
#include <doctest/doctest.h>
#include <soci/soci.h>  // Api holds database sessions

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>

#include "shop_api.hpp"
#include "system.hpp"

using namespace bazaar;
using namespace bazaar::e2e;
using namespace std::chrono_literals;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The generator's virtual environment, made by scripts/setup.
std::string generator_bin() {
  const char* deps = std::getenv("BAZAAR_DEPS");
  const std::string bin =
      (deps != nullptr && *deps != '\0' ? std::string(deps)
                                        : std::string(BAZAAR_SOURCE_ROOT) + "/.deps") +
      "/client-gen-venv/bin";
  REQUIRE_MESSAGE(std::filesystem::exists(bin + "/openapi-python-client"),
                  bin << "/openapi-python-client is missing: scripts/setup installs it");
  return bin;
}

}  // namespace

TEST_CASE("a client generated from openapi.yaml runs the seed workflow") {
  // A client cannot see when the order service learned a new product's price: the order
  // service waits for the listing as it does outside tests.
  Api api(false, {}, {{"order", {{"BAZAAR_ORDER_UNKNOWN_PRODUCT_GRACE_MS", "30000"}}}});
  const std::string bin = generator_bin();
  const std::string dir =
      tests::required_env("BAZAAR_RUN_DIR") + "/" + tests::unique_name("generated-client");
  std::filesystem::create_directories(dir);
  {
    // A fixed package name, whatever title the document gives the API.
    std::ofstream config(dir + "/config.yaml");
    config << "package_name_override: bazaar_client\nproject_name_override: bazaar-client\n";
  }
  const char* path = std::getenv("PATH");
  // The generator formats what it writes with ruff, which its environment brings.
  const Env env{{"PATH", bin + ":" + (path != nullptr ? path : "/usr/bin:/bin")}};

  tests::ChildProcess generate(
      bin + "/openapi-python-client",
      {"generate", "--path", std::string(BAZAAR_SOURCE_ROOT) + "/schemas/openapi.yaml",
       "--output-path", dir + "/client", "--config", dir + "/config.yaml"},
      env, dir + "/generate.log");
  REQUIRE_MESSAGE(generate.wait(180s) == 0,
                  "openapi-python-client failed on schemas/openapi.yaml:\n"
                      << slurp(dir + "/generate.log"));
  REQUIRE(std::filesystem::exists(dir + "/client/bazaar_client/api"));
  // The generator leaves out, with a warning, what it cannot read: every operation must be there.
  const std::string generated = slurp(dir + "/generate.log");
  CHECK_MESSAGE(generated.find("will not be generated") == std::string::npos, generated);

  // sh sends the script's standard output to a file of its own ($0); its errors go to the log.
  tests::ChildProcess seed("/bin/sh",
                           {"-c", R"(exec "$@" >"$0")", dir + "/seed.out", bin + "/python",
                            std::string(BAZAAR_SOURCE_ROOT) + "/tests/e2e/generated_client_seed.py",
                            "--base-url", "http://127.0.0.1:" + std::to_string(api.port)},
                           {{"PYTHONPATH", dir + "/client"}}, dir + "/seed.log");
  const int code = seed.wait(180s);
  const std::string out = slurp(dir + "/seed.out");
  REQUIRE_MESSAGE(code == 0, "generated_client_seed.py exited " << code << ":\n"
                                                                << out << slurp(dir + "/seed.log"));
  MESSAGE(out);
  CHECK(std::regex_search(out, std::regex("registered seller [0-9a-f-]{36} role=seller")));
  CHECK(std::regex_search(out, std::regex("registered buyer [0-9a-f-]{36} role=buyer")));
  CHECK(out.find("signed in buyer token_type=bearer") != std::string::npos);
  CHECK(std::regex_search(out, std::regex("listed product [0-9a-f-]{36} price=12.5 EUR")));
  CHECK(out.find("(repeated key: same order)") != std::string::npos);

  // What the client saw is what the server holds: the order is the buyer's, confirmed, 2 x 12.50.
  std::smatch confirmed;
  REQUIRE(std::regex_search(out, confirmed,
                            std::regex("history holds order ([0-9a-f-]{36}) CONFIRMED "
                                       "total=25(\\.0)? EUR")));
  const auto order = api.http.get("/orders/" + confirmed[1].str(), api.admin_token());
  REQUIRE_MESSAGE(order.status == 200, order.body);
  CHECK(order.json().at("status").as_string() == "CONFIRMED");
  CHECK(order.json().at("lines").as_array().size() == 1);
}
