#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/http_types.hpp"
#include "http/problem.hpp"

namespace bazaar::edge {

/// The request body as a JSON object, or the problem to answer (malformed JSON, not an
/// object, wrong content type: 400 or 415; a string with a control character: 422).
struct JsonBody {
  boost::json::object object;
  std::optional<HttpResponse> error;
};
JsonBody parse_json_body(const HttpRequest& request);

/// Whether a JSON number literal is not zero but reads as zero (`1e-400`): the parser keeps
/// no literal, so a body's amount written so would pass as 0. Such a body is a 422.
bool number_vanishes(std::string_view literal);

/// The request's media type: Content-Type without its parameters, lower-cased (media types are
/// case-insensitive); empty when there is none.
std::string media_type(const HttpRequest& request);

/// The integer a JSON number stands for (5 and 5.0 alike), or nullopt for a fraction or a
/// whole number beyond int64.
std::optional<std::int64_t> json_integer(const boost::json::value& v);

/// Collects invalid fields of one request so that a 422 names each of them.
class FieldCheck {
 public:
  explicit FieldCheck(const boost::json::object& body) : body_(body) {}
  /// A required string of `min`..`max` characters (code points); empty when invalid (and
  /// recorded).
  std::string required_string(std::string_view field, std::size_t min = 1, std::size_t max = 200);
  std::optional<std::string> optional_string(std::string_view field, std::size_t min = 0,
                                             std::size_t max = 5000);
  /// A required integer within [min, max].
  std::int64_t required_int(std::string_view field, std::int64_t min, std::int64_t max);
  std::optional<std::int64_t> optional_int(std::string_view field, std::int64_t min,
                                           std::int64_t max);
  /// Records a problem found by the caller's own rule.
  void fail(std::string field, std::string reason);
  bool ok() const { return errors_.empty(); }
  /// The 422 problem naming every invalid field.
  HttpResponse problem() const;

 private:
  const boost::json::object& body_;
  std::vector<FieldError> errors_;
};

}  // namespace bazaar::edge
