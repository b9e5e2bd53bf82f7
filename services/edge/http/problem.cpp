#include "http/problem.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>

namespace bazaar::edge {

HttpResponse problem(int status, std::string title, std::string detail,
                     std::vector<FieldError> errors) {
  boost::json::object body{{"type", "about:blank"},
                           {"title", std::move(title)},
                           {"status", status},
                           {"detail", std::move(detail)}};
  if (!errors.empty()) {
    boost::json::array list;
    for (auto& e : errors) {
      list.push_back(
          boost::json::object{{"field", std::move(e.field)}, {"reason", std::move(e.reason)}});
    }
    body["errors"] = std::move(list);
  }
  HttpResponse r;
  r.status = status;
  r.content_type = "application/problem+json";
  r.body = boost::json::serialize(body);
  return r;
}

HttpResponse json_response(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

}  // namespace bazaar::edge
