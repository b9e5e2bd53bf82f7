#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bazaar::edge {

/// One HTTP request as the API sees it: no Beast types, so API code compiles fast and is
/// testable without sockets.
struct HttpRequest {
  std::string method;                             ///< "GET", "POST", ...
  std::string target;                             ///< path and query as received
  std::string path;                               ///< decoded path without the query
  std::multimap<std::string, std::string> query;  ///< decoded query parameters
  std::map<std::string, std::string> headers;     ///< names lower-cased
  std::string body;
  std::string remote;  ///< peer address, for logs and rate limits

  /// A header's value, or empty; `name` lower-case.
  std::string header(std::string_view name) const;
  /// The first value of a query parameter.
  std::optional<std::string> param(std::string_view name) const;
};

/// One HTTP response.
struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

/// An authenticated caller.
struct Principal {
  std::string user_id;
  std::string role;  ///< admin, seller or buyer
};

}  // namespace bazaar::edge
