#include "admin/dashboard_api.hpp"

#include <cstdint>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>

#include "admin/dashboard_files.hpp"
#include "http/problem.hpp"

namespace bazaar::edge {
namespace {

constexpr std::string_view kPage = "index.html";
constexpr std::string_view kChartFile = "chart.umd.min.js";
constexpr std::string_view kAssetPath = "/admin/dashboard/assets/";

struct Asset {
  std::string type;
  std::string text;
  std::string version;  ///< a fingerprint of `text`, the `v` of the asset's URL
};

std::string read_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + file.string() + " (run scripts/setup)");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string type_of(std::string_view name) {
  if (name.ends_with(".js")) return "application/javascript; charset=utf-8";
  if (name.ends_with(".css")) return "text/css; charset=utf-8";
  if (name.ends_with(".svg")) return "image/svg+xml";
  if (name.ends_with(".html")) return "text/html; charset=utf-8";
  throw std::logic_error("no content type for dashboard file " + std::string(name));
}

// FNV-1a: stable across builds and processes, so every edge instance names a file alike.
std::string fingerprint(std::string_view text) {
  std::uint64_t hash = 14695981039346656037ULL;
  for (const char c : text) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ULL;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(16, '0');
  for (std::size_t i = 0; i < out.size(); ++i)
    out[out.size() - 1 - i] = kHex[(hash >> (4 * i)) & 0xf];
  return out;
}

// The Host header is copied into the policy only when it is a plain host[:port]; anything
// else could smuggle directives into the header.
bool plain_host(std::string_view host) {
  if (host.empty() || host.size() > 255) return false;
  for (const char c : host) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '-' || c == ':' || c == '[' || c == ']';
    if (!ok) return false;
  }
  return true;
}

// Scripts, styles and connections from this origin only; nothing inline. 'self' covers
// same-host WebSockets only in CSP Level 3 browsers, so /ws's origin is also named.
std::string content_security_policy(std::string_view host) {
  std::string connect = "'self'";
  if (plain_host(host)) {
    connect += " ws://" + std::string(host) + " wss://" + std::string(host);
  }
  return "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src " +
         connect + "; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
}

HttpResponse file_response(const std::string& type, const std::string& body,
                           std::string cache_control) {
  HttpResponse r;
  r.content_type = type;
  r.body = body;
  r.headers.emplace_back("Cache-Control", std::move(cache_control));
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  return r;
}

// The page names its files as {{name}}; each becomes the file's URL with its fingerprint, so a
// new build's files are never mixed with an old build's cached ones.
std::string link_assets(std::string page, const std::map<std::string, Asset, std::less<>>& assets) {
  for (const auto& [name, asset] : assets) {
    const std::string placeholder = "{{" + name + "}}";
    const std::string url = std::string(kAssetPath) + name + "?v=" + asset.version;
    for (auto at = page.find(placeholder); at != std::string::npos;
         at = page.find(placeholder, at + url.size())) {
      page.replace(at, placeholder.size(), url);
    }
  }
  if (const auto at = page.find("{{"); at != std::string::npos) {
    throw std::logic_error("the dashboard page names an unknown file: " + page.substr(at, 40));
  }
  return page;
}

}  // namespace

void register_dashboard_routes(Router& router, const DashboardSettings& settings) {
  auto assets = std::make_shared<std::map<std::string, Asset, std::less<>>>();
  std::string page;
  for (const auto& file : dashboard_files()) {
    if (file.name == kPage) {
      page = file.text;
      continue;
    }
    std::string text(file.text);
    (*assets)[std::string(file.name)] = {type_of(file.name), text, fingerprint(text)};
  }
  if (page.empty()) throw std::logic_error("the dashboard's index.html was not compiled in");
  std::string chart = read_file(settings.chart_dir / kChartFile);
  (*assets)[std::string(kChartFile)] = {type_of(kChartFile), chart, fingerprint(chart)};
  auto linked = std::make_shared<const std::string>(link_assets(std::move(page), *assets));

  router.add("GET", "/admin/dashboard", Access::kAnyone, [linked](const RequestContext& c) {
    HttpResponse r = file_response(type_of(kPage), *linked, "no-cache");
    r.headers.emplace_back("Content-Security-Policy",
                           content_security_policy(c.request.header("host")));
    r.headers.emplace_back("Referrer-Policy", "no-referrer");
    return r;
  });
  router.add("GET", "/admin/dashboard/assets/{file}", Access::kAnyone,
             [assets](const RequestContext& c) {
               const auto it = assets->find(c.params.at("file"));
               if (it == assets->end()) return problem(404, "Not Found", "no such asset");
               const Asset& a = it->second;
               // A URL with the current fingerprint never changes content; any other is
               // checked again next time.
               const bool current = c.request.param("v") == a.version;
               return file_response(a.type, a.text,
                                    current ? "public, max-age=31536000, immutable" : "no-cache");
             });
}

}  // namespace bazaar::edge
