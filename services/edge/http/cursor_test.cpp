#include "http/cursor.hpp"

#include <doctest/doctest.h>

using namespace bazaar::edge;

namespace {
const std::string kScope = cursor_scope("products", {std::nullopt, "home"});
}  // namespace

TEST_CASE("a cursor survives encoding") {
  const Cursor c{"price", "1250", "0190a3c4-1b2c-7d3e-8f40-123456789abc"};
  const std::string text = encode_cursor(c, kScope);
  for (const char ch : text) {
    const bool url_safe = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                          (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.';
    CHECK(url_safe);
  }
  const auto back = decode_cursor(text, kScope);
  REQUIRE(back);
  CHECK(back->sort == "price");
  CHECK(back->key == "1250");
  CHECK(back->id == c.id);
}

TEST_CASE("keys with any characters survive encoding") {
  for (const std::string key : {"", "a", "ab", "abc", "caf\xc3\xa9 \"quoted\" \\ / ?&=", "lamp"}) {
    const auto back = decode_cursor(
        encode_cursor({"name", key, "0190a3c4-1b2c-7d3e-8f40-123456789abc"}, kScope), kScope);
    REQUIRE(back);
    CHECK(back->key == key);
  }
}

TEST_CASE("an upper case id is read in canonical form") {
  const auto back = decode_cursor(
      encode_cursor({"name", "x", "0190A3C4-1B2C-7D3E-8F40-123456789ABC"}, kScope), kScope);
  REQUIRE(back);
  CHECK(back->id == "0190a3c4-1b2c-7d3e-8f40-123456789abc");
}

TEST_CASE("garbage is not a cursor") {
  CHECK_FALSE(decode_cursor("", kScope));
  CHECK_FALSE(decode_cursor("!!!!", kScope));
  CHECK_FALSE(decode_cursor("abc==", kScope));
  CHECK_FALSE(decode_cursor("a", kScope));
  CHECK_FALSE(decode_cursor("bm90IGpzb24", kScope));         // "not json"
  CHECK_FALSE(decode_cursor("WzEsMiwzXQ", kScope));          // [1,2,3]
  CHECK_FALSE(decode_cursor("eyJzIjoicHJpY2UifQ", kScope));  // {"s":"price"}
  CHECK_FALSE(decode_cursor(encode_cursor({"price", "1", "not-a-uuid"}, kScope), kScope));
  CHECK_FALSE(decode_cursor(std::string(5000, 'A'), kScope));
  // A forged key with NUL, which PostgreSQL text cannot hold.
  CHECK_FALSE(decode_cursor(
      encode_cursor({"name", std::string("a\0b", 3), "0190a3c4-1b2c-7d3e-8f40-123456789abc"},
                    kScope),
      kScope));
  // Non-zero leftover bits: another spelling of a valid cursor is refused.
  std::string text = encode_cursor({"price", "1", "0190a3c4-1b2c-7d3e-8f40-123456789abc"}, kScope);
  if (text.size() % 4 != 0) {
    text.back() = text.back() == '_' ? '-' : '_';
    CHECK_FALSE(decode_cursor(text, kScope));
  }
}

TEST_CASE("an edited cursor, or one of another secret, is not a cursor") {
  set_cursor_secret("a secret of at least thirty-two bytes, for edge");
  const std::string text = encode_cursor(
      {"-created_at", "1700000000000000", "0190a3c4-1b2c-7d3e-8f40-123456789abc"}, kScope);
  REQUIRE(decode_cursor(text, kScope));
  // The same JSON with a key of the caller's choosing (a time no database can hold), the MAC
  // kept: base64url of {"s":"-created_at","k":"-211000000000000000","id":"0190a3c4-..."}.
  const std::string forged =
      "eyJzIjoiLWNyZWF0ZWRfYXQiLCJrIjoiLTIxMTAwMDAwMDAwMDAwMDAwMCIsImlkIjoiMDE5MGEzYzQtMWIyYy03ZD"
      "NlLThmNDAtMTIzNDU2Nzg5YWJjIn0" +
      text.substr(text.find('.'));
  CHECK_FALSE(decode_cursor(forged, kScope));
  CHECK_FALSE(decode_cursor(text.substr(0, text.find('.')), kScope));  // no MAC at all
  // Another instance with the same secret reads it; with another secret, not.
  set_cursor_secret("a secret of at least thirty-two bytes, for edge");
  CHECK(decode_cursor(text, kScope));
  set_cursor_secret("another secret of at least thirty-two bytes, too");
  CHECK_FALSE(decode_cursor(text, kScope));
}

TEST_CASE("a cursor is read only in the listing and filters that gave it") {
  const Cursor c{"price", "1250", "0190a3c4-1b2c-7d3e-8f40-123456789abc"};
  const std::string text = encode_cursor(c, kScope);
  CHECK(decode_cursor(text, cursor_scope("products", {std::nullopt, "home"})));
  CHECK_FALSE(decode_cursor(text, cursor_scope("products", {std::nullopt, "garden"})));
  CHECK_FALSE(decode_cursor(text, cursor_scope("products", {"", "home"})));
  CHECK_FALSE(decode_cursor(text, cursor_scope("products", {std::nullopt, std::nullopt})));
  CHECK_FALSE(decode_cursor(text, cursor_scope("orders", {std::nullopt, "home"})));
  // Filters are kept apart: no two lists of them make one scope.
  CHECK(cursor_scope("x", {"a,b"}) != cursor_scope("x", {"a", "b"}));
  CHECK(cursor_scope("x", {"\"a\""}) != cursor_scope("x", {"a"}));
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
