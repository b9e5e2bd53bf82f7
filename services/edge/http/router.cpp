#include "http/router.hpp"

#include "http/problem.hpp"

namespace bazaar::edge {
std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= path.size()) {
    const auto slash = path.find('/', start);
    const auto end = slash == std::string_view::npos ? path.size() : slash;
    if (end > start) out.emplace_back(path.substr(start, end - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return out;
}

Router::Router(Authenticator authenticate) : authenticate_(std::move(authenticate)) {}

void Router::add(std::string method, std::string pattern, Access access, RouteHandler handler) {
  auto segments = split_path(pattern);
  routes_.push_back(Route{std::move(method), std::move(pattern), std::move(segments), access,
                          std::move(handler)});
}

bool Router::allows(Access access, const std::string& role) {
  switch (access) {
    case Access::kAnyone:
    case Access::kSignedIn:
      return true;
    case Access::kBuyer:
      return role == "buyer";
    case Access::kSeller:
      return role == "seller";
    case Access::kAdmin:
      return role == "admin";
    case Access::kSellerOrAdmin:
      return role == "seller" || role == "admin";
    case Access::kBuyerOrAdmin:
      return role == "buyer" || role == "admin";
  }
  return false;
}

std::optional<std::map<std::string, std::string>> Router::match(
    const Route& r, const std::vector<std::string>& path) {
  if (r.segments.size() != path.size()) return std::nullopt;
  std::map<std::string, std::string> params;
  for (std::size_t i = 0; i < path.size(); ++i) {
    const std::string& s = r.segments[i];
    if (s.size() > 2 && s.front() == '{' && s.back() == '}') {
      params[s.substr(1, s.size() - 2)] = path[i];
    } else if (s != path[i]) {
      return std::nullopt;
    }
  }
  return params;
}

HttpResponse Router::handle(const HttpRequest& request) const {
  const auto path = split_path(request.path);
  bool path_known = false;
  std::string allowed;
  // Every GET route answers HEAD too (the server drops the body).
  const std::string_view served =
      request.method == "HEAD" ? std::string_view{"GET"} : std::string_view{request.method};
  for (const auto& r : routes_) {
    auto params = match(r, path);
    if (!params) continue;
    path_known = true;
    if (r.method != served) {
      if (!allowed.empty()) allowed += ", ";
      allowed += r.method;
      if (r.method == "GET") allowed += ", HEAD";
      continue;
    }
    RequestContext ctx{request, std::move(*params), std::nullopt};
    if (r.access != Access::kAnyone) {
      ctx.principal = authenticate_(request);
      if (!ctx.principal) {
        HttpResponse p = problem(401, "Unauthorized", "a valid bearer token is required");
        p.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"bazaar\"");
        return p;
      }
      if (!allows(r.access, ctx.principal->role)) {
        return problem(403, "Forbidden", "the " + ctx.principal->role + " role may not do this");
      }
    }
    return r.handler(ctx);
  }
  if (path_known) {
    HttpResponse p = problem(405, "Method Not Allowed", request.method + " is not served here");
    p.headers.emplace_back("Allow", allowed);
    return p;
  }
  return problem(404, "Not Found", "no such resource: " + request.path);
}

std::vector<RouteInfo> Router::routes() const {
  std::vector<RouteInfo> out;
  for (const auto& r : routes_) out.push_back({r.method, r.pattern, r.access});
  return out;
}

}  // namespace bazaar::edge
