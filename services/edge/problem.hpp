#pragma once

#include <string>
#include <utility>
#include <vector>

#include "http_types.hpp"

namespace bazaar::edge {

/// One invalid field of a request, for 422 answers.
struct FieldError {
  std::string field;   ///< JSON pointer-ish name, e.g. "lines/0/quantity"
  std::string reason;  ///< what is wrong, in words
};

/// An RFC 9457 `application/problem+json` response: type, title, status, detail, and the
/// invalid fields when there are any.
HttpResponse problem(int status, std::string title, std::string detail,
                     std::vector<FieldError> errors = {});

/// A JSON response with `body` already serialised.
HttpResponse json_response(int status, std::string body);

}  // namespace bazaar::edge
