#include "docs_api.hpp"

#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>

#include "http/problem.hpp"

namespace bazaar::edge {
namespace {

std::string read_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + file.string() + " (run scripts/setup)");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

HttpResponse content(std::string type, std::string body) {
  HttpResponse r;
  r.content_type = std::move(type);
  r.body = std::move(body);
  r.headers.emplace_back("Cache-Control", "public, max-age=3600");
  return r;
}

// Swagger UI, loaded from this server only.
constexpr const char* kDocsPage = R"html(<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>bazaar API</title>
  <link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
  <div id="docs"></div>
  <script src="/docs/assets/swagger-ui-bundle.js"></script>
  <script src="/docs/assets/swagger-ui-standalone-preset.js"></script>
  <script>
    window.onload = () => {
      window.ui = SwaggerUIBundle({ url: "/openapi.yaml", dom_id: "#docs", deepLinking: true,
        presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset] });
    };
  </script>
</body>
</html>
)html";

}  // namespace

void register_docs_routes(Router& router, const DocsSettings& settings,
                          std::function<bool()> ready) {
  auto openapi = std::make_shared<const std::string>(read_file(settings.openapi_file));
  auto assets = std::make_shared<std::map<std::string, HttpResponse>>();
  const std::pair<const char*, const char*> files[] = {
      {"swagger-ui.css", "text/css"},
      {"swagger-ui-bundle.js", "application/javascript"},
      {"swagger-ui-standalone-preset.js", "application/javascript"},
  };
  for (const auto& [name, type] : files) {
    (*assets)[name] = content(type, read_file(settings.assets_dir / name));
  }

  router.add("GET", "/health/live", Access::kAnyone,
             [](const RequestContext&) { return json_response(200, R"({"status":"live"})"); });
  router.add("GET", "/health/ready", Access::kAnyone,
             [ready = std::move(ready)](const RequestContext&) {
               return ready() ? json_response(200, R"({"status":"ready"})")
                              : json_response(503, R"({"status":"not_ready"})");
             });
  router.add("GET", "/openapi.yaml", Access::kAnyone,
             [openapi](const RequestContext&) { return content("application/yaml", *openapi); });
  router.add("GET", "/docs", Access::kAnyone,
             [](const RequestContext&) { return content("text/html; charset=utf-8", kDocsPage); });
  router.add("GET", "/docs/assets/{file}", Access::kAnyone, [assets](const RequestContext& c) {
    const auto it = assets->find(c.params.at("file"));
    if (it == assets->end()) return problem(404, "Not Found", "no such asset");
    return it->second;
  });
  router.add("GET", "/ws", Access::kSignedIn, [](const RequestContext&) {
    HttpResponse r = problem(426, "Upgrade Required", "open /ws as a WebSocket");
    r.headers.emplace_back("Upgrade", "websocket");
    return r;
  });
}

}  // namespace bazaar::edge
