#include "webhook_url.hpp"

#include <doctest/doctest.h>

#include <vector>

namespace bazaar::notification {

TEST_CASE("webhook urls that parse") {
  struct Row {
    const char* url;
    WebhookUrl expected;
  };
  const std::vector<Row> rows = {
      {"http://127.0.0.1:8080/hook", {"127.0.0.1", 8080, "/hook"}},
      {"http://example.com", {"example.com", 80, "/"}},
      {"http://example.com/", {"example.com", 80, "/"}},
      {"HTTP://Example.com:81/a/b?x=1&y=2", {"Example.com", 81, "/a/b?x=1&y=2"}},
      {"http://hooks.local?token=abc", {"hooks.local", 80, "/?token=abc"}},
      {"http://localhost:9000/p#fragment", {"localhost", 9000, "/p"}},
      {"http://[::1]:8080/hook", {"::1", 8080, "/hook"}},
      {"http://[::1]/hook", {"::1", 80, "/hook"}},
      {"http://my_host-1.example:65535", {"my_host-1.example", 65535, "/"}},
  };
  for (const auto& row : rows) {
    CAPTURE(row.url);
    const auto got = parse_webhook_url(row.url);
    REQUIRE(got.ok());
    CHECK(got.value() == row.expected);
  }
}

TEST_CASE("webhook urls that are refused") {
  const std::vector<const char*> rows = {
      "",
      "example.com/hook",
      "https://example.com/hook",
      "ftp://example.com",
      "http://",
      "http:///path",
      "http://:8080/path",
      "http://host:/path",
      "http://host:0/",
      "http://host:65536/",
      "http://host:123456/",
      "http://host:80x/",
      "http://user:secret@host/",
      "http://ho st/",
      "http://host/pa th",
      "http://host/\r\nX-Injected: 1",
      "http://[::1/",
      "http://[::1]x/",
      "http://[]/",
      "http://ho$t/",
  };
  for (const char* url : rows) {
    CAPTURE(url);
    const auto got = parse_webhook_url(url);
    REQUIRE_FALSE(got.ok());
    CHECK(got.error().code == "invalid_url");
  }
}

TEST_CASE("the host header carries a port only when it is not 80") {
  CHECK(WebhookUrl{"example.com", 80, "/"}.host_header() == "example.com");
  CHECK(WebhookUrl{"127.0.0.1", 8080, "/"}.host_header() == "127.0.0.1:8080");
  CHECK(WebhookUrl{"::1", 8080, "/"}.host_header() == "[::1]:8080");
}

}  // namespace bazaar::notification
