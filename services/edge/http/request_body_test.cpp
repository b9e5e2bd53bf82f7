#include "http/request_body.hpp"

#include <doctest/doctest.h>

#include <boost/json/parse.hpp>

using namespace bazaar::edge;

namespace {

JsonBody parse(std::string body) {
  HttpRequest r;
  r.method = "POST";
  r.headers["content-type"] = "application/json";
  r.body = std::move(body);
  return parse_json_body(r);
}

// The field a 422 names, from its problem body.
std::string named_field(const HttpResponse& r) {
  const auto problem = boost::json::parse(r.body).as_object();
  return std::string(problem.at("errors").as_array().at(0).as_object().at("field").as_string());
}

}  // namespace

TEST_CASE("a string with NUL or another control character is refused, naming its field") {
  struct Row {
    const char* body;
    const char* field;
  };
  for (const Row row :
       {Row{R"({"name":"a\u0000b"})", "name"}, Row{R"({"name":"bell\u0007"})", "name"},
        Row{R"({"name":"del\u007f"})", "name"},
        Row{R"({"lines":[{"product_id":"x"},{"product_id":"\u0000"}]})", "lines/1/product_id"},
        Row{R"({"a\u0001":"b"})", "a\x01"}}) {
    CAPTURE(row.body);
    const auto parsed = parse(row.body);
    REQUIRE(parsed.error);
    CHECK(parsed.error->status == 422);
    CHECK(parsed.error->content_type == "application/problem+json");
    CHECK(named_field(*parsed.error) == row.field);
  }
}

TEST_CASE("tab, new line and every printable character pass") {
  const auto parsed = parse(R"({"description":"line one\nline\ttwo\r\n caf\u00e9 \ud83d\ude00"})");
  CHECK_FALSE(parsed.error);
  CHECK(parsed.object.at("description").as_string().size() > 10);
}

TEST_CASE("malformed JSON and non-objects stay 400, a wrong type 415") {
  CHECK(parse("{nope").error->status == 400);
  CHECK(parse("[1]").error->status == 400);
  HttpRequest r;
  r.headers["content-type"] = "text/plain";
  r.body = "{}";
  CHECK(parse_json_body(r).error->status == 415);
}
