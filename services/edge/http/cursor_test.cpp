#include "http/cursor.hpp"

#include <doctest/doctest.h>

using namespace bazaar::edge;

TEST_CASE("a cursor survives encoding") {
  const Cursor c{"price", "1250", "0190a3c4-1b2c-7d3e-8f40-123456789abc"};
  const std::string text = encode_cursor(c);
  for (const char ch : text) {
    const bool url_safe = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                          (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.';
    CHECK(url_safe);
  }
  const auto back = decode_cursor(text);
  REQUIRE(back);
  CHECK(back->sort == "price");
  CHECK(back->key == "1250");
  CHECK(back->id == c.id);
}

TEST_CASE("keys with any characters survive encoding") {
  for (const std::string key : {"", "a", "ab", "abc", "caf\xc3\xa9 \"quoted\" \\ / ?&=", "lamp"}) {
    const auto back =
        decode_cursor(encode_cursor({"name", key, "0190a3c4-1b2c-7d3e-8f40-123456789abc"}));
    REQUIRE(back);
    CHECK(back->key == key);
  }
}

TEST_CASE("an upper case id is read in canonical form") {
  const auto back =
      decode_cursor(encode_cursor({"name", "x", "0190A3C4-1B2C-7D3E-8F40-123456789ABC"}));
  REQUIRE(back);
  CHECK(back->id == "0190a3c4-1b2c-7d3e-8f40-123456789abc");
}

TEST_CASE("garbage is not a cursor") {
  CHECK_FALSE(decode_cursor(""));
  CHECK_FALSE(decode_cursor("!!!!"));
  CHECK_FALSE(decode_cursor("abc=="));
  CHECK_FALSE(decode_cursor("a"));
  CHECK_FALSE(decode_cursor("bm90IGpzb24"));         // "not json"
  CHECK_FALSE(decode_cursor("WzEsMiwzXQ"));          // [1,2,3]
  CHECK_FALSE(decode_cursor("eyJzIjoicHJpY2UifQ"));  // {"s":"price"}
  CHECK_FALSE(decode_cursor(encode_cursor({"price", "1", "not-a-uuid"})));
  CHECK_FALSE(decode_cursor(std::string(5000, 'A')));
  // A forged key with NUL, which PostgreSQL text cannot hold.
  CHECK_FALSE(decode_cursor(
      encode_cursor({"name", std::string("a\0b", 3), "0190a3c4-1b2c-7d3e-8f40-123456789abc"})));
  // Non-zero leftover bits: another spelling of a valid cursor is refused.
  std::string text = encode_cursor({"price", "1", "0190a3c4-1b2c-7d3e-8f40-123456789abc"});
  if (text.size() % 4 != 0) {
    text.back() = text.back() == '_' ? '-' : '_';
    CHECK_FALSE(decode_cursor(text));
  }
}

TEST_CASE("an edited cursor, or one of another secret, is not a cursor") {
  set_cursor_secret("a secret of at least thirty-two bytes, for edge");
  const std::string text =
      encode_cursor({"-created_at", "1700000000000000", "0190a3c4-1b2c-7d3e-8f40-123456789abc"});
  REQUIRE(decode_cursor(text));
  // The same JSON with a key of the caller's choosing (a time no database can hold), the MAC
  // kept: base64url of {"s":"-created_at","k":"-211000000000000000","id":"0190a3c4-..."}.
  const std::string forged =
      "eyJzIjoiLWNyZWF0ZWRfYXQiLCJrIjoiLTIxMTAwMDAwMDAwMDAwMDAwMCIsImlkIjoiMDE5MGEzYzQtMWIyYy03ZD"
      "NlLThmNDAtMTIzNDU2Nzg5YWJjIn0" +
      text.substr(text.find('.'));
  CHECK_FALSE(decode_cursor(forged));
  CHECK_FALSE(decode_cursor(text.substr(0, text.find('.'))));  // no MAC at all
  // Another instance with the same secret reads it; with another secret, not.
  set_cursor_secret("a secret of at least thirty-two bytes, for edge");
  CHECK(decode_cursor(text));
  set_cursor_secret("another secret of at least thirty-two bytes, too");
  CHECK_FALSE(decode_cursor(text));
}

TEST_CASE("page sizes") {
  CHECK(parse_limit(std::nullopt) == kDefaultPageSize);
  CHECK(parse_limit(std::string("1")) == 1);
  CHECK(parse_limit(std::string("100")) == 100);
  CHECK_FALSE(parse_limit(std::string("0")));
  CHECK_FALSE(parse_limit(std::string("101")));
  CHECK_FALSE(parse_limit(std::string("-5")));
  CHECK_FALSE(parse_limit(std::string("ten")));
  CHECK_FALSE(parse_limit(std::string("")));
  CHECK_FALSE(parse_limit(std::string("99999999999999999999")));
}
