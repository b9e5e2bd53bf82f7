#include "http/url_codec.hpp"

#include <doctest/doctest.h>

#include <iterator>

using namespace bazaar::edge;

TEST_CASE("split target separates path and query") {
  auto parts = split_target("/products?q=red&limit=5");
  CHECK(parts.path == "/products");
  CHECK(parts.query == "q=red&limit=5");

  parts = split_target("/orders/1");
  CHECK(parts.path == "/orders/1");
  CHECK(parts.query.empty());

  parts = split_target("/a?");
  CHECK(parts.path == "/a");
  CHECK(parts.query.empty());

  parts = split_target("/a?x=1?y=2");
  CHECK(parts.path == "/a");
  CHECK(parts.query == "x=1?y=2");
}

TEST_CASE("split target drops the fragment and the authority of an absolute target") {
  auto parts = split_target("/a?b=1#frag");
  CHECK(parts.path == "/a");
  CHECK(parts.query == "b=1");

  parts = split_target("http://example.com:8080/products?q=x");
  CHECK(parts.path == "/products");
  CHECK(parts.query == "q=x");

  parts = split_target("http://example.com");
  CHECK(parts.path == "/");

  parts = split_target("/redirect?to=http://example.com/x");
  CHECK(parts.path == "/redirect");
  CHECK(parts.query == "to=http://example.com/x");
}

TEST_CASE("percent decode turns escapes into bytes") {
  CHECK(percent_decode("/products/abc") == "/products/abc");
  CHECK(percent_decode("caf%C3%A9") == "caf\xC3\xA9");
  CHECK(percent_decode("a%2fb%2Fc") == "a/b/c");
  CHECK(percent_decode("100%25") == "100%");
  CHECK(percent_decode("") == "");
}

TEST_CASE("plus is a space only in query components") {
  CHECK(percent_decode("a+b") == "a+b");
  CHECK(percent_decode("a+b", true) == "a b");
  CHECK(percent_decode("a%2Bb", true) == "a+b");
}

TEST_CASE("percent decode rejects malformed escapes") {
  CHECK_FALSE(percent_decode("%"));
  CHECK_FALSE(percent_decode("abc%4"));
  CHECK_FALSE(percent_decode("%zz"));
  CHECK_FALSE(percent_decode("%4g"));
  CHECK_FALSE(percent_decode("%g4"));
  CHECK_FALSE(percent_decode("a%%41"));
  CHECK_FALSE(percent_decode("nul%00byte"));
}

TEST_CASE("percent decode refuses bytes that are not UTF-8 and keeps those that are") {
  // A lone continuation byte, a truncated sequence, an overlong '/', a surrogate, beyond U+10FFFF,
  // and a raw byte that no UTF-8 text holds.
  for (const char* text : {"%80", "caf%C3", "%C0%AF", "%ED%A0%80", "%F4%90%80%80",
                           "a\xff"
                           "b"}) {
    CAPTURE(text);
    CHECK_FALSE(percent_decode(text));
    CHECK_FALSE(parse_query(std::string("q=") + text));
  }
  CHECK(percent_decode("caf%C3%A9") == "caf\xc3\xa9");
  CHECK(percent_decode("%F0%9F%98%80") == "\xf0\x9f\x98\x80");
  CHECK(percent_decode("%E0%A0%80%F4%8F%BF%BF") == "\xe0\xa0\x80\xf4\x8f\xbf\xbf");
}

TEST_CASE("parse query decodes names and values and keeps repeats") {
  const auto params = parse_query("q=red+shoes&category=a%26b&tag=1&tag=2");
  REQUIRE(params);
  CHECK(params->size() == 4);
  CHECK(params->find("q")->second == "red shoes");
  CHECK(params->find("category")->second == "a&b");
  const auto [first, last] = params->equal_range("tag");
  REQUIRE(std::distance(first, last) == 2);
  CHECK(first->second == "1");
  CHECK(std::next(first)->second == "2");
}

TEST_CASE("parse query tolerates empty pairs and names without values") {
  const auto params = parse_query("&a=&&b&c=x=y&");
  REQUIRE(params);
  CHECK(params->size() == 3);
  CHECK(params->find("a")->second.empty());
  CHECK(params->find("b")->second.empty());
  CHECK(params->find("c")->second == "x=y");
  CHECK(parse_query("")->empty());
}

TEST_CASE("parse query reads a form body") {
  const auto form = parse_query("username=ann%40example.com&password=p%40ss+word%21");
  REQUIRE(form);
  CHECK(form->find("username")->second == "ann@example.com");
  CHECK(form->find("password")->second == "p@ss word!");
}

TEST_CASE("parse query rejects a malformed escape in a name or a value") {
  CHECK_FALSE(parse_query("a=%zz"));
  CHECK_FALSE(parse_query("a%=1"));
  CHECK_FALSE(parse_query("ok=1&bad=%4"));
}
