// The admin dashboard end to end: headless chromium opens /admin/dashboard, signs in through
// its form, and must see the numbers and charts change, without a reload, as orders settle and
// the analytics service's snapshots reach the page over /ws. dashboard_check.mjs drives the
// browser; this side runs the system and places the orders once the page is up.
#include <doctest/doctest.h>
#include <signal.h>

#include <boost/json/serialize.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "shop_api.hpp"

using namespace bazaar;
using namespace bazaar::e2e;
using namespace std::chrono_literals;

namespace {

constexpr const char* kChromium = "/usr/bin/chromium";
constexpr const char* kNode = "/usr/bin/node";

std::string read_text(const std::string& file) {
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Where scripts/setup installed puppeteer-core.
std::string deps_dir() {
  const char* deps = std::getenv("BAZAAR_DEPS");
  return deps != nullptr && *deps != '\0' ? deps : std::string(BAZAAR_SOURCE_ROOT) + "/.deps";
}

}  // namespace

TEST_CASE("the admin dashboard signs in, draws, and updates live as orders settle") {
  REQUIRE_MESSAGE(std::filesystem::exists(kChromium),
                  kChromium << " is missing: run scripts/setup");
  REQUIRE_MESSAGE(std::filesystem::exists(kNode), kNode << " is missing: run scripts/setup");
  // One payment attempt: a declined card cancels the order at once.
  Api api(true, {{"BAZAAR_ANALYTICS_SNAPSHOT_INTERVAL_MS", "300"}},
          {{"order", {{"BAZAAR_ORDER_PAYMENT_ATTEMPTS", "1"}}}});
  const auto [seller_id, seller] = api.user("seller");
  const auto [buyer_id, buyer] = api.user("buyer");
  const std::string product = api.product(seller, 12.5, 10);
  const auto listed = api.http.get("/products/" + product);
  REQUIRE(listed.status == 200);
  const std::string currency(listed.json().at("currency").as_string());

  // Analytics starts with this test and may still be reading what earlier tests left on the
  // topics: the page takes its first numbers once the stats have been quiet for 3 s, so the
  // change it then waits for is this test's orders.
  const std::string admin = api.admin_token();
  std::string as_of = "unread";
  auto changed = std::chrono::steady_clock::now();
  REQUIRE(tests::wait_until(120s, [&] {
    const auto r = api.http.get("/admin/stats", admin);
    if (r.status != 200) return false;
    const std::string now = boost::json::serialize(r.json().at("as_of"));
    if (now != as_of) {
      as_of = now;
      changed = std::chrono::steady_clock::now();
    }
    return std::chrono::steady_clock::now() - changed >= 3s;
  }));

  const std::string run_dir = tests::required_env("BAZAAR_RUN_DIR");
  const std::string log = run_dir + "/e2e-dashboard-browser.log";
  std::filesystem::remove(log);
  // Two sales of 12.50 and one declined payment: +2 confirmed, +25.00 net, +1 failed.
  tests::ChildProcess browser(kNode,
                              {std::string(BAZAAR_SOURCE_ROOT) + "/tests/e2e/dashboard_check.mjs",
                               "--url",
                               "http://127.0.0.1:" + std::to_string(api.port) + "/admin/dashboard",
                               "--email",
                               kAdminEmail,
                               "--password",
                               kAdminPassword,
                               "--deps",
                               deps_dir(),
                               "--out",
                               run_dir,
                               "--expect-confirmed",
                               "2",
                               "--expect-failed",
                               "1",
                               "--expect-net",
                               currency + ":25",
                               "--expect-reason",
                               "payment_declined",
                               "--timeout-ms",
                               "60000"},
                              {}, log);

  // The page is signed in, live and showing its first numbers before any order is placed.
  const bool ready = tests::wait_until(120s, [&] {
    const std::string out = read_text(log);
    return out.find("READY ") != std::string::npos || out.find("FAIL: ") != std::string::npos;
  });
  const std::string started = read_text(log);
  REQUIRE_MESSAGE((ready && started.find("READY ") != std::string::npos),
                  "the dashboard did not come up; browser log " << log << ":\n"
                                                                << started);

  for (int i = 0; i < 2; ++i) {
    const std::string id(api.order(buyer, product, 1, "tok_ok").at("id").as_string());
    REQUIRE(api.wait_order_status(buyer, id) == "CONFIRMED");
  }
  const std::string declined(api.order(buyer, product, 1, "tok_decline").at("id").as_string());
  REQUIRE(api.wait_order_status(buyer, declined) == "CANCELLED");

  // The browser exits on its own once the page showed the change, or its deadline passed.
  int code = browser.wait(150s);
  if (code == -1) {
    browser.signal(SIGTERM);  // puppeteer closes chromium on SIGTERM
    code = browser.wait(10s);
  }
  CHECK_MESSAGE(code == 0, "the dashboard check failed (exit " << code << "); browser log " << log
                                                               << ":\n"
                                                               << read_text(log));
}
