#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "http/http_types.hpp"

namespace bazaar::edge {

/// A decoded path's segments as routes match them: empty ones dropped, so `/ws/` and `//ws`
/// are `/ws`.
std::vector<std::string> split_path(std::string_view path);

/// Who may call a route. The router answers 401 without a valid token and 403 for a role
/// that is not allowed, before the route's code runs.
enum class Access { kAnyone, kSignedIn, kBuyer, kSeller, kAdmin, kSellerOrAdmin, kBuyerOrAdmin };

/// What a route's code gets: the request, its path parameters and the caller.
struct RequestContext {
  const HttpRequest& request;
  std::map<std::string, std::string> params;  ///< from `{name}` segments of the pattern
  std::optional<Principal> principal;         ///< set for every route but kAnyone ones
};

using RouteHandler = std::function<HttpResponse(const RequestContext&)>;

/// Turns a bearer token into the caller, or nullopt when it is missing, expired, tampered,
/// for another audience, or of a disabled user.
using Authenticator = std::function<std::optional<Principal>(const HttpRequest&)>;

/// One route as documented in openapi.yaml.
struct RouteInfo {
  std::string method;
  std::string pattern;  ///< e.g. "/orders/{id}"
  Access access;
};

/// Maps method + path pattern to code, enforcing Access on every route. Pure: no I/O.
class Router {
 public:
  explicit Router(Authenticator authenticate);
  void add(std::string method, std::string pattern, Access access, RouteHandler handler);
  /// Answers the request: the route's response, or a problem (404 no route, 405 wrong
  /// method, 401, 403).
  HttpResponse handle(const HttpRequest& request) const;
  /// Every route, in the order added (the OpenAPI test compares them with the document).
  std::vector<RouteInfo> routes() const;
  /// Whether `role` satisfies `access`.
  static bool allows(Access access, const std::string& role);

 private:
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;
    Access access;
    RouteHandler handler;
  };
  static std::optional<std::map<std::string, std::string>> match(
      const Route& r, const std::vector<std::string>& path);
  Authenticator authenticate_;
  std::vector<Route> routes_;
};

}  // namespace bazaar::edge
