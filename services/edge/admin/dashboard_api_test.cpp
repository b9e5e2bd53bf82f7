#include "admin/dashboard_api.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <set>
#include <stdexcept>
#include <string>

using namespace bazaar::edge;

namespace {

std::string header_of(const HttpResponse& r, const std::string& name) {
  for (const auto& [key, value] : r.headers) {
    if (key == name) return value;
  }
  return {};
}

HttpRequest get(const std::string& path, const std::string& v = {}, const std::string& host = {}) {
  HttpRequest r;
  r.method = "GET";
  r.path = path;
  r.target = v.empty() ? path : path + "?v=" + v;
  if (!v.empty()) r.query.emplace("v", v);
  if (!host.empty()) r.headers["host"] = host;
  return r;
}

// A folder standing in for the Chart.js that scripts/setup installs.
struct ChartDir {
  std::filesystem::path path;
  ChartDir() {
    std::string name =
        (std::filesystem::temp_directory_path() / "bazaar-dashboard-XXXXXX").string();
    REQUIRE(mkdtemp(name.data()) != nullptr);
    path = name;
    std::ofstream(path / "chart.umd.min.js") << "/* Chart.js stand-in */";
  }
  ~ChartDir() { std::filesystem::remove_all(path); }
  ChartDir(const ChartDir&) = delete;
  ChartDir& operator=(const ChartDir&) = delete;
};

Router dashboard_router(const ChartDir& dir) {
  Router router([](const HttpRequest&) { return std::optional<Principal>{}; });
  register_dashboard_routes(router, {dir.path});
  return router;
}

}  // namespace

TEST_CASE("the dashboard page is public, strict about what it loads, and links only its assets") {
  const ChartDir dir;
  const Router router = dashboard_router(dir);
  const HttpResponse page = router.handle(get("/admin/dashboard", {}, "127.0.0.1:8080"));
  REQUIRE(page.status == 200);
  CHECK(page.content_type == "text/html; charset=utf-8");
  const std::string csp = header_of(page, "Content-Security-Policy");
  CHECK(csp.find("default-src 'none'") != std::string::npos);
  CHECK(csp.find("script-src 'self';") != std::string::npos);
  CHECK(csp.find("style-src 'self';") != std::string::npos);
  CHECK(csp.find("connect-src 'self' ws://127.0.0.1:8080 wss://127.0.0.1:8080;") !=
        std::string::npos);
  CHECK(csp.find("frame-ancestors 'none'") != std::string::npos);
  CHECK(header_of(page, "X-Content-Type-Options") == "nosniff");

  // Nothing inline: every script has a source, no style attribute, no on* handler.
  CHECK(page.body.find("{{") == std::string::npos);
  CHECK_FALSE(std::regex_search(page.body, std::regex("<script>|<script [^>]*>[^<]")));
  CHECK_FALSE(std::regex_search(page.body, std::regex(R"(\sstyle=|\son[a-z]+=)")));

  const std::regex link(R"re(/admin/dashboard/assets/([a-z.]+)\?v=([0-9a-f]{16}))re");
  std::set<std::string> linked;
  for (auto it = std::sregex_iterator(page.body.begin(), page.body.end(), link);
       it != std::sregex_iterator(); ++it) {
    const std::string name = (*it)[1];
    linked.insert(name);
    const HttpResponse asset =
        router.handle(get("/admin/dashboard/assets/" + name, (*it)[2].str()));
    CHECK_MESSAGE(asset.status == 200, name);
    CHECK_MESSAGE(!asset.body.empty(), name);
    CHECK(header_of(asset, "Cache-Control") == "public, max-age=31536000, immutable");
  }
  CHECK(linked ==
        std::set<std::string>{"chart.umd.min.js", "dashboard.css", "dashboard.js", "icon.svg"});
  CHECK(router.handle(get("/admin/dashboard/assets/dashboard.js")).content_type ==
        "application/javascript; charset=utf-8");
  CHECK(router.handle(get("/admin/dashboard/assets/chart.umd.min.js")).body ==
        "/* Chart.js stand-in */");
}

TEST_CASE("an old or missing fingerprint is served but not cached for long") {
  const ChartDir dir;
  const Router router = dashboard_router(dir);
  const HttpResponse r = router.handle(get("/admin/dashboard/assets/dashboard.css", "0123"));
  CHECK(r.status == 200);
  CHECK(header_of(r, "Cache-Control") == "no-cache");
}

TEST_CASE("unknown dashboard files are 404 problems") {
  const ChartDir dir;
  const Router router = dashboard_router(dir);
  for (const char* name : {"index.html", "nope.js", "..", "chart.js"}) {
    const HttpResponse r = router.handle(get(std::string("/admin/dashboard/assets/") + name));
    CHECK_MESSAGE(r.status == 404, name);
    CHECK(r.content_type == "application/problem+json");
  }
}

TEST_CASE("a Host header that is not a plain host is kept out of the policy") {
  const ChartDir dir;
  const Router router = dashboard_router(dir);
  const std::string csp =
      header_of(router.handle(get("/admin/dashboard", {}, "evil.test; script-src *")),
                "Content-Security-Policy");
  CHECK(csp.find("evil") == std::string::npos);
  CHECK(csp.find("connect-src 'self';") != std::string::npos);
}

TEST_CASE("a missing Chart.js stops start-up") {
  Router router([](const HttpRequest&) { return std::optional<Principal>{}; });
  CHECK_THROWS_WITH_AS(register_dashboard_routes(router, {"/nonexistent/chart"}),
                       doctest::Contains("scripts/setup"), std::runtime_error);
}
