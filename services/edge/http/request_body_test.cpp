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

TEST_CASE("lengths are counted in characters, as JSON Schema counts them") {
  std::string accents;
  for (int i = 0; i < 200; ++i) accents += "\u00e9";  // two bytes each
  const auto body = boost::json::object{{"name", accents}, {"long", accents + "\u00e9"}};
  FieldCheck check(body);
  CHECK(check.required_string("name", 1, 200) == accents);
  CHECK(check.ok());
  CHECK(check.required_string("long", 1, 200).empty());
  CHECK_FALSE(check.ok());
}

TEST_CASE("a whole number is an integer however it is written, a fraction never") {
  const auto body =
      boost::json::parse(R"({"plain":5,"point":5.0,"exponent":2e3,"half":2.5,"huge":1e30,)"
                         R"("word":"5","big":18446744073709551615})")
          .as_object();
  FieldCheck check(body);
  CHECK(check.required_int("plain", 0, 10) == 5);
  CHECK(check.required_int("point", 0, 10) == 5);
  CHECK(check.required_int("exponent", 0, 5000) == 2000);
  CHECK(check.ok());
  for (const char* field : {"half", "huge", "word", "big"}) {
    CAPTURE(field);
    FieldCheck one(body);
    one.required_int(field, 0, 10);
    REQUIRE_FALSE(one.ok());
    const auto problem = boost::json::parse(one.problem().body).as_object();
    const std::string reason(
        problem.at("errors").as_array().at(0).as_object().at("reason").as_string());
    const bool out_of_range = std::string(field) == "huge" || std::string(field) == "big";
    CHECK(reason == (out_of_range ? "must be between 0 and 10" : "must be an integer"));
  }
}

TEST_CASE("the media type is read without its parameters and in any case") {
  const auto with_type = [](const char* type) {
    HttpRequest r;
    r.method = "POST";
    r.headers["content-type"] = type;
    r.body = "{}";
    return parse_json_body(r);
  };
  CHECK_FALSE(with_type("application/json").error);
  CHECK_FALSE(with_type("Application/JSON; charset=utf-8").error);
  CHECK_FALSE(with_type(" application/json ;charset=UTF-8").error);
  CHECK(with_type("application/json-patch+json").error->status == 415);
  CHECK(with_type("text/plain").error->status == 415);
}

TEST_CASE("a number too small to tell from zero is refused, naming it; zero itself is not") {
  const std::string zeros(400, '0');
  struct Row {
    std::string body;
    const char* field;
  };
  for (const Row& r :
       {Row{R"({"price":1e-400})", "price"}, Row{R"({"price":1E-999999999})", "price"},
        Row{R"({"a":[1,{"b":-2.5e-400}]})", "a/1/b"},
        Row{R"({"s":"1e-400","price":7e-500})", "price"},
        Row{R"({ "x\"y" : [ 0 , 3e-999 ] })", "x\"y/1"},
        Row{"{\"price\":0." + zeros + "1}", "price"},
        Row{"{\"price\":0." + zeros + "1e+5}", "price"},
        Row{R"({"a":{"b":[],"c":{}},"d":[[1],[2,1e-400]]})", "d/1/1"}}) {
    CAPTURE(r.body);
    const auto b = parse(r.body);
    REQUIRE(b.error);
    CHECK(b.error->status == 422);
    CHECK(named_field(*b.error) == r.field);
  }
  for (const std::string& body : std::vector<std::string>{
           R"({"price":0})", R"({"price":0.0e-400})", R"({"price":-0e-5})", R"({"price":1e-300})",
           R"({"price":12.5,"note":"1e-400 \" 5e-999 \\"})", R"({"q":1e400})", R"({"n":[0,0.000]})",
           "{\"price\":0." + zeros + "}"}) {
    CAPTURE(body);
    CHECK_FALSE(parse(body).error);
  }
  CHECK(number_vanishes("1e-400"));
  CHECK_FALSE(number_vanishes("100000000000000000000000000000"));
  CHECK_FALSE(number_vanishes("0e-400"));
}
