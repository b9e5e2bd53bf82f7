#pragma once

#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "http/http_types.hpp"

namespace bazaar::edge {

/// One invalid field of a request, for 422 answers.
struct FieldError {
  std::string field;   ///< JSON pointer-ish name, e.g. "lines/0/quantity"
  std::string reason;  ///< what is wrong, in words
};

/// Thrown when a dependency (the database) cannot be reached: the server answers 503 with
/// Retry-After instead of 500, since a later try can succeed.
class DependencyUnavailable : public std::runtime_error {
 public:
  DependencyUnavailable(const std::string& what, int retry_after_s)
      : std::runtime_error(what), retry_after_s_(retry_after_s) {}
  int retry_after_s() const { return retry_after_s_; }

 private:
  int retry_after_s_;
};

/// Thrown when edge refuses work to keep its promises (admission control of orders): the
/// server answers 503 with Retry-After, like for an unreachable dependency.
class Overloaded final : public DependencyUnavailable {
 public:
  using DependencyUnavailable::DependencyUnavailable;
};

/// An RFC 9457 `application/problem+json` response: type, title, status, detail, and the
/// invalid fields when there are any.
HttpResponse problem(int status, std::string title, std::string detail,
                     std::vector<FieldError> errors = {});

/// A JSON response with `body` already serialised.
HttpResponse json_response(int status, std::string body);

}  // namespace bazaar::edge
