// The HTTP contract as a property-based tester reads it: Schemathesis, driven by the
// openapi.yaml the edge serves, sends requests the document calls valid and requests it calls
// invalid for every operation, with an admin's, a seller's and a buyer's token, to the whole
// system running; it fails on any 5xx, a valid request refused, an invalid one accepted, and a
// status, content type, header or body the document does not promise. Seeded and bounded
// (tests/contract/schemathesis.toml), so every run sends the same requests in a few minutes;
// tests/contract/hooks.py says who calls what and points valid requests at what exists.
#include <doctest/doctest.h>
#include <soci/soci.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "shop_api.hpp"
#include "system.hpp"

using namespace bazaar;
using namespace bazaar::e2e;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

// An order may have this many lines, each of another product.
constexpr int kOrderLines = 100;

std::string deps_dir() {
  const char* deps = std::getenv("BAZAAR_DEPS");
  return deps != nullptr && *deps != '\0' ? std::string(deps)
                                          : std::string(BAZAAR_SOURCE_ROOT) + "/.deps";
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The last `lines` lines of `text`: where Schemathesis sums up what failed.
std::string tail(const std::string& text, std::size_t lines) {
  std::size_t at = text.size();
  for (std::size_t n = 0; n <= lines && at > 0; ++n) at = text.rfind('\n', at - 1);
  return at == std::string::npos ? text : text.substr(at + 1);
}

// Lists `count` products of `seller` at once, then waits until the order service prices them all.
std::vector<std::string> list_products(Api& api, const std::string& seller, int count,
                                       long long stock) {
  std::vector<std::string> ids;
  for (int i = 0; i < count; ++i) {
    const auto r = api.http.post("/products",
                                 json::object{{"name", "Contract item " + std::to_string(i)},
                                              {"description", "Listed for the contract test"},
                                              {"price", 1.25},
                                              {"category", "contract"},
                                              {"stock", stock}},
                                 seller);
    REQUIRE_MESSAGE(r.status == 202, r.body);
    ids.emplace_back(r.json().at("id").as_string());
  }
  std::string list = "{";
  for (const auto& id : ids) list += (list.size() > 1 ? "," : "") + id;
  list += "}";
  REQUIRE(tests::wait_until(60s, [&] {
    long long priced = 0;
    api.system.db("order")
        << "SELECT count(*) FROM catalog_prices WHERE product_id = ANY(CAST(:ids AS uuid[]))",
        soci::use(list), soci::into(priced);
    return priced == static_cast<long long>(ids.size());
  }));
  return ids;
}

}  // namespace

TEST_CASE("the running edge keeps every promise of openapi.yaml under Schemathesis") {
  const std::string tools = deps_dir() + "/api-tools-venv/bin/schemathesis";
  REQUIRE_MESSAGE(std::filesystem::exists(tools),
                  tools << " is missing: scripts/setup installs it");
  // Rate-limited routes are tested within their limits: this edge's limits are far above what
  // the test sends. Admission control is off so that the burst of test orders is not refused
  // (its 503 is documented and tested on its own).
  Api api(false, {},
          {{"edge",
            {{"BAZAAR_EDGE_AUTH_BURST", "1000000"},
             {"BAZAAR_EDGE_AUTH_RATE_PER_MINUTE", "1000000"},
             {"BAZAAR_EDGE_ADMISSION_MAX_WAIT_MS", "0"},
             {"BAZAAR_EDGE_MAX_BODY_BYTES", "1048576"}}}});

  const std::string admin = api.admin_token();
  const auto [seller_id, seller] = api.user("seller");
  const auto [buyer_id, buyer] = api.user("buyer");
  const std::string user_to_change = api.user("buyer").first;
  const std::string user_to_delete = api.user("buyer").first;

  const auto order_products = list_products(api, seller, kOrderLines, 1'000'000);
  // The cart's product has more stock than any quantity a cart may hold, many times over.
  const std::string cart_product = api.product(seller, 2.5, 100'000'000);
  const std::string seller_product = api.product(seller, 3, 10);
  const std::string doomed_product = api.product(seller, 4, 10);
  // Two orders, so that the admin's list of orders has a second page.
  const auto first = api.order(buyer, order_products[0], 1, "tok_ok");
  const std::string order(first.at("id").as_string());
  REQUIRE(api.wait_order_status(buyer, order) == "CONFIRMED");
  api.order(buyer, order_products[1], 1, "tok_ok");

  json::array products;
  for (const auto& id : order_products) products.emplace_back(id);
  const json::object fixture{
      {"base_url", "http://127.0.0.1:" + std::to_string(api.port)},
      {"tokens", json::object{{"admin", admin}, {"seller", seller}, {"buyer", buyer}}},
      {"order_products", products},
      {"cart_product", cart_product},
      {"seller_product", seller_product},
      {"doomed_product", doomed_product},
      {"order", order},
      {"user_to_change", user_to_change},
      {"user_to_delete", user_to_delete}};
  const std::string run_dir = tests::required_env("BAZAAR_RUN_DIR");
  const std::string fixture_file = run_dir + "/contract-fixture.json";
  std::ofstream(fixture_file) << json::serialize(fixture);

  const std::string contract = std::string(BAZAAR_SOURCE_ROOT) + "/tests/contract";
  const std::string log = run_dir + "/contract-schemathesis.log";
  tests::ChildProcess run(tools,
                          {"--config-file", contract + "/schemathesis.toml", "run",
                           "http://127.0.0.1:" + std::to_string(api.port) + "/openapi.yaml"},
                          {{"SCHEMATHESIS_HOOKS", contract + "/hooks.py"},
                           {"BAZAAR_CONTRACT_FIXTURE", fixture_file},
                           // Hypothesis keeps its files in the run folder, not where ctest runs.
                           {"HYPOTHESIS_STORAGE_DIRECTORY", run_dir + "/contract-hypothesis"},
                           {"NO_COLOR", "1"}},
                          log);
  const int code = run.wait(300s);
  if (code == -1) run.signal(SIGKILL);
  CHECK_MESSAGE(code == 0, "Schemathesis exited " << code << "; its whole report is in " << log
                                                  << ":\n"
                                                  << tail(slurp(log), 120));
}

TEST_CASE("what the contract test found is answered as openapi.yaml says") {
  Api api;
  const std::string admin = api.admin_token();
  const auto seller = api.user("seller").second;
  const auto buyer = api.user("buyer").second;
  const auto body = [](const HttpResult& r) { return std::to_string(r.status) + " " + r.body; };

  // An email with capitals beyond ASCII is stored lower-cased as the database's CHECK wants
  // it; it used to fail that CHECK and answer 500. Any spelling signs in, none registers twice.
  const std::string id = api.bus.new_id();
  const auto registered =
      api.http.post("/auth/register", json::object{{"email", "ÄNNE-" + id + "@Bazaar.test"},
                                                   {"password", "correct horse 1"},
                                                   {"name", "Änne"}});
  REQUIRE_MESSAGE(registered.status == 201, body(registered));
  CHECK(registered.json().at("email").as_string() == "änne-" + id + "@bazaar.test");
  const auto signed_in = api.http.post(
      "/auth/login",
      json::object{{"email", "Änne-" + id + "@BAZAAR.test"}, {"password", "correct horse 1"}});
  CHECK_MESSAGE(signed_in.status == 200, body(signed_in));
  const auto again =
      api.http.post("/auth/register", json::object{{"email", "änne-" + id + "@bazaar.test"},
                                                   {"password", "correct horse 1"},
                                                   {"name", "Änne"}});
  CHECK_MESSAGE(again.status == 409, body(again));

  const auto list = [&](const std::string& json_body) {
    return api.http.request(
        "POST", "/products", json_body,
        {{"Content-Type", "application/json"}, {"Authorization", "Bearer " + seller}});
  };
  // A third decimal is refused however large the amount (multipleOf 0.01 as JSON Schema reads
  // it), where doubles are a thousandth apart too.
  const auto third_decimal =
      list(R"({"name":"Lamp","price":4560061503819.432,"category":"light"})");
  CHECK_MESSAGE(third_decimal.status == 422, body(third_decimal));
  CHECK(third_decimal.body.find("\"price\"") != std::string::npos);
  CHECK(list(R"({"name":"Lamp","price":4560061503819.43,"category":"light"})").status == 202);
  // A whole number written with a fraction is an integer; lengths count characters, not bytes.
  std::string accents;
  for (int i = 0; i < 200; ++i) accents += "é";
  const auto whole =
      list(R"({"name":")" + accents + R"(","price":19.99,"category":"c","stock":5.0})");
  REQUIRE_MESSAGE(whole.status == 202, body(whole));
  CHECK(whole.json().at("stock").to_number<long long>() == 5);
  CHECK(list(R"({"name":")" + accents + R"(é","price":1,"category":"c"})").status == 422);
  // seller_id is a UUID whoever sends it: a seller's is ignored, not unchecked.
  CHECK(list(R"({"name":"Lamp","price":1,"category":"c","seller_id":"nope"})").status == 422);
  // Media types are case-insensitive and may carry parameters.
  const auto upper = api.http.request(
      "POST", "/products", R"({"name":"Lamp","price":1,"category":"c"})",
      {{"Content-Type", "Application/JSON; charset=UTF-8"}, {"Authorization", "Bearer " + seller}});
  CHECK_MESSAGE(upper.status == 202, body(upper));

  // More than the stock in a cart is a conflict with the product's state, not an invalid field.
  const std::string scarce(whole.json().at("id").as_string());
  const auto too_many =
      api.http.send("PUT", "/cart/items/" + scarce, json::object{{"quantity", 6}}, buyer);
  CHECK_MESSAGE(too_many.status == 409, body(too_many));
  CHECK(
      api.http.send("PUT", "/cart/items/" + scarce, json::object{{"quantity", 5}}, buyer).status ==
      200);

  // Parameters that are not UTF-8 are malformed; they used to reach PostgreSQL and fail there.
  CHECK(api.http.get("/products?q=%FF").status == 400);
  CHECK(api.http.get("/products?q=caf%C3%A9").status == 200);
  CHECK(api.http.get("/products/%C0%AF").status == 400);
  const auto form = api.http.request("POST", "/auth/token", "username=%FF&password=x",
                                     {{"Content-Type", "application/x-www-form-urlencoded"}});
  CHECK_MESSAGE(form.status == 400, body(form));

  // Days PostgreSQL has no room for (year 0, signed years) are invalid parameters, and a
  // default window never starts before year 1.
  const auto year_zero = api.http.get("/admin/stats/sales?from=0000-01-01&to=0000-01-02", admin);
  CHECK_MESSAGE(year_zero.status == 422, body(year_zero));
  CHECK(api.http.get("/admin/stats/sales?from=-001-01-01", admin).status == 422);
  const auto first_days = api.http.get("/admin/stats/sales?to=0001-01-05", admin);
  CHECK_MESSAGE(first_days.status == 200, body(first_days));
  CHECK(first_days.json().at("from").as_string() == "0001-01-01");
}
