// openapi.yaml is the contract clients are written against: its paths and methods must be
// exactly the router's.
#include <doctest/doctest.h>

#include <fstream>
#include <set>
#include <sstream>

#include "api.hpp"
#include "events/schema_registry.hpp"

using namespace bazaar;
using namespace bazaar::edge;

namespace {

// The (METHOD, path) pairs of an OpenAPI document: keys two spaces deep under `paths:`, and
// the HTTP methods four spaces deep under each.
std::set<std::pair<std::string, std::string>> documented(const std::string& file) {
  std::ifstream in(file);
  std::string line;
  std::set<std::pair<std::string, std::string>> out;
  bool in_paths = false;
  std::string path;
  static const std::set<std::string> kMethods{"get",   "put",  "post",   "delete",
                                              "patch", "head", "options"};
  while (std::getline(in, line)) {
    if (line == "paths:") {
      in_paths = true;
      continue;
    }
    if (!in_paths) continue;
    if (!line.empty() && line[0] != ' ') break;  // the next top-level key
    if (line.rfind("  /", 0) == 0 && line.back() == ':') {
      path = line.substr(2, line.size() - 3);
    } else if (line.size() > 5 && line.rfind("    ", 0) == 0 && line[4] != ' ' &&
               line.back() == ':') {
      std::string method = line.substr(4, line.size() - 5);
      if (kMethods.contains(method)) {
        for (auto& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        out.emplace(method, path);
      }
    }
  }
  return out;
}

}  // namespace

TEST_CASE("openapi.yaml documents exactly the routes the router serves") {
  const std::string root = BAZAAR_SOURCE_ROOT;
  events::ManualClock clock;
  events::UuidV7Generator ids(clock, events::system_random());
  events::EnvelopeFactory factory("edge", clock, ids, events::system_random());
  const events::SchemaRegistry schemas(root + "/schemas");
  // Connections open on first use: building the routes touches no database.
  EdgeDb db("postgresql://nobody@127.0.0.1:1/none", 1, schemas);
  OrderWaiters waiters(clock, 1);
  ApiContext api{db, schemas, factory, clock, waiters};
  const TokenService tokens({.secret = std::string(40, 's')}, clock);
  Router router([](const HttpRequest&) { return std::optional<Principal>{}; });
  ApiSettings settings{PasswordParams::for_tests(),
                       {root + "/schemas/openapi.yaml", root + "/.deps/swagger-ui-5.35.0"},
                       {root + "/.deps/chart.js-4.6.1"},
                       {}};
  register_api(router, api, tokens, settings, [] { return true; });

  std::set<std::pair<std::string, std::string>> served;
  for (const auto& r : router.routes()) {
    CHECK_MESSAGE(served.emplace(r.method, r.pattern).second,
                  "route twice: " << r.method << " " << r.pattern);
  }
  const auto doc = documented(root + "/schemas/openapi.yaml");
  for (const auto& [method, path] : served) {
    CHECK_MESSAGE(doc.contains({method, path}), "undocumented route: " << method << " " << path);
  }
  for (const auto& [method, path] : doc) {
    CHECK_MESSAGE(served.contains({method, path}),
                  "documented but not served: " << method << " " << path);
  }
  CHECK(served.size() >= 30);
}
