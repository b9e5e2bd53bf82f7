#include "shop_api.hpp"

#include <doctest/doctest.h>
#include <soci/soci.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

namespace bazaar::e2e {
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

std::vector<std::string> services(bool with_analytics) {
  auto all = kServices;
  if (with_analytics) all.push_back("analytics");
  all.push_back("edge");
  return all;
}

}  // namespace

Env edge_env(std::uint16_t port) {
  return {{"BAZAAR_EDGE_PORT", std::to_string(port)}, {"BAZAAR_JWT_SECRET", kSecret},
          {"BAZAAR_ADMIN_EMAIL", kAdminEmail},        {"BAZAAR_ADMIN_PASSWORD", kAdminPassword},
          {"BAZAAR_EDGE_ARGON2_MEMORY_KIB", "1024"},  {"BAZAAR_EDGE_ARGON2_PASSES", "1"},
          {"BAZAAR_EDGE_READ_TIMEOUT_MS", "1500"},    {"BAZAAR_EDGE_MAX_BODY_BYTES", "65536"}};
}

namespace {

std::map<std::string, Env> merged(std::map<std::string, Env> base,
                                  const std::map<std::string, Env>& extra) {
  for (const auto& [service, env] : extra) {
    for (const auto& [k, v] : env) base[service][k] = v;
  }
  return base;
}

}  // namespace

Api::Api(bool with_analytics, Env analytics_env, const std::map<std::string, Env>& extra)
    : port(tests::free_port()),
      system(merged({{"edge", edge_env(port)},
                     {"notification", {{"BAZAAR_NOTIFICATION_WEBHOOK_URL", webhook.url()}}},
                     {"order", {{"BAZAAR_ORDER_UNKNOWN_PRODUCT_GRACE_MS", "0"}}},
                     {"analytics", std::move(analytics_env)}},
                    extra),
             services(with_analytics)),
      http(port) {}

std::string Api::unique_email(const std::string& who) {
  return who + "-" + bus.new_id() + "@bazaar.test";
}

std::pair<std::string, std::string> Api::user(const std::string& role) {
  const std::string email = unique_email(role);
  const auto reg = http.post("/auth/register", json::object{{"email", email},
                                                            {"password", "correct horse 1"},
                                                            {"name", "Test " + role},
                                                            {"role", role}});
  REQUIRE_MESSAGE(reg.status == 201, reg.body);
  const auto login =
      http.post("/auth/login", json::object{{"email", email}, {"password", "correct horse 1"}});
  REQUIRE_MESSAGE(login.status == 200, login.body);
  return {std::string(reg.json().at("id").as_string()),
          std::string(login.json().at("access_token").as_string())};
}

std::string Api::admin_token() {
  const auto login =
      http.post("/auth/login", json::object{{"email", kAdminEmail}, {"password", kAdminPassword}});
  REQUIRE_MESSAGE(login.status == 200, login.body);
  return std::string(login.json().at("access_token").as_string());
}

std::string Api::product(const std::string& seller_token, double price, int stock,
                         const std::string& name, const std::string& currency) {
  const auto r = http.post("/products",
                           json::object{{"name", name},
                                        {"description", "Blue and round"},
                                        {"price", price},
                                        {"currency", currency},
                                        {"category", "kitchen"},
                                        {"stock", stock}},
                           seller_token);
  REQUIRE_MESSAGE(r.status == 202, r.body);
  const std::string id(r.json().at("id").as_string());
  CHECK(r.header("location") == "/products/" + id);
  // Orders can only be placed once the order service has the product's price.
  REQUIRE(tests::wait_until(30s, [&] {
    long long n = 0;
    std::string pid = id;
    system.db("order")
        << "SELECT count(*) FROM catalog_prices WHERE product_id = CAST(:id AS uuid)",
        soci::use(pid), soci::into(n);
    return n == 1;
  }));
  return id;
}

json::value Api::order(const std::string& token, const std::string& product, int quantity,
                       const std::string& payment_token, int wait_s) {
  const auto r = http.post(
      "/orders",
      json::object{
          {"lines", json::array{json::object{{"product_id", product}, {"quantity", quantity}}}},
          {"payment_token", payment_token}},
      token, {{"Prefer", "wait=" + std::to_string(wait_s)}});
  REQUIRE_MESSAGE((r.status == 200 || r.status == 202), r.body);
  return r.json();
}

std::string Api::wait_order_status(const std::string& token, const std::string& id) {
  std::string status;
  tests::wait_until(30s, [&] {
    const auto r = http.get("/orders/" + id, token);
    status = r.status == 200 ? std::string(r.json().at("status").as_string()) : "";
    return status == "CONFIRMED" || status == "REJECTED" || status == "CANCELLED";
  });
  return status;
}

}  // namespace bazaar::e2e
