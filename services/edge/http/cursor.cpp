#include "http/cursor.hpp"

#include <sodium.h>

#include <array>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstdint>
#include <mutex>
#include <stdexcept>

#include "events/uuid.hpp"

namespace bazaar::edge {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr std::size_t kMaxCursorChars = 2048;

int sextet(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

std::string base64url(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t n = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16 |
                            static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1]))
                                << 8 |
                            static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 2]));
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(kAlphabet[(n >> 6) & 63]);
    out.push_back(kAlphabet[n & 63]);
  }
  const std::size_t rest = bytes.size() - i;
  if (rest > 0) {
    std::uint32_t n = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
    if (rest == 2) n |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    if (rest == 2) out.push_back(kAlphabet[(n >> 6) & 63]);
  }
  return out;
}

std::optional<std::string> unbase64url(std::string_view text) {
  // A length of 1 mod 4 cannot come from any byte string.
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t acc = 0;
  int bits = 0;
  for (const char c : text) {
    const int v = sextet(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<std::uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  // Leftover bits must be zero, or two texts would decode to one cursor.
  if ((acc & ((1u << bits) - 1)) != 0) return std::nullopt;
  return out;
}

// The MAC's bytes kept in a cursor: 128 bits are beyond guessing.
constexpr std::size_t kMacBytes = 16;

// Written once before serving (set_cursor_secret), read by every request thread after.
struct CursorKey {
  std::once_flag random_once;
  std::array<unsigned char, crypto_auth_hmacsha256_KEYBYTES> key{};
};

CursorKey& cursor_key() {
  static CursorKey k;
  std::call_once(k.random_once, [] {
    if (sodium_init() < 0) throw std::runtime_error("libsodium cannot start");
    randombytes_buf(k.key.data(), k.key.size());
  });
  return k;
}

void mac_update(crypto_auth_hmacsha256_state& state, std::string_view bytes) {
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(bytes.data()),
                                bytes.size());
}

// The scope goes first with its length, so no scope and cursor pair reads as another.
std::string mac_of(std::string_view scope, std::string_view bytes) {
  const CursorKey& k = cursor_key();
  std::array<unsigned char, crypto_auth_hmacsha256_BYTES> mac{};
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, k.key.data(), k.key.size());
  mac_update(state, std::to_string(scope.size()) + ":");
  mac_update(state, scope);
  mac_update(state, bytes);
  crypto_auth_hmacsha256_final(&state, mac.data());
  return {reinterpret_cast<const char*>(mac.data()), kMacBytes};
}

}  // namespace

void set_cursor_secret(std::string_view secret) {
  CursorKey& k = cursor_key();
  // A key of its own, not the signing key of tokens itself.
  constexpr std::string_view kLabel = "bazaar edge cursor v1";
  static_assert(crypto_auth_hmacsha256_KEYBYTES == crypto_auth_hmacsha256_BYTES);
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(secret.data()),
                              secret.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(kLabel.data()),
                                kLabel.size());
  crypto_auth_hmacsha256_final(&state, k.key.data());
}

std::string encode_cursor(const Cursor& cursor, std::string_view scope) {
  const boost::json::object o{{"s", cursor.sort}, {"k", cursor.key}, {"id", cursor.id}};
  const std::string json = boost::json::serialize(o);
  return base64url(json) + "." + base64url(mac_of(scope, json));
}

std::string cursor_scope(std::string_view listing,
                         std::initializer_list<std::optional<std::string_view>> filters) {
  boost::json::array parts;
  parts.emplace_back(listing);
  for (const auto& f : filters) {
    if (f) {
      parts.emplace_back(*f);
    } else {
      parts.emplace_back(nullptr);
    }
  }
  return boost::json::serialize(parts);
}

std::optional<Cursor> decode_cursor(std::string_view text, std::string_view scope) {
  if (text.empty() || text.size() > kMaxCursorChars) return std::nullopt;
  const auto dot = text.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  const auto bytes = unbase64url(text.substr(0, dot));
  const auto mac = unbase64url(text.substr(dot + 1));
  if (!bytes || !mac || mac->size() != kMacBytes) return std::nullopt;
  if (sodium_memcmp(mac->data(), mac_of(scope, *bytes).data(), kMacBytes) != 0) return std::nullopt;
  boost::system::error_code ec;
  const boost::json::value v = boost::json::parse(*bytes, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const auto& o = v.get_object();
  const auto* s = o.if_contains("s");
  const auto* k = o.if_contains("k");
  const auto* id = o.if_contains("id");
  if (s == nullptr || k == nullptr || id == nullptr || !s->is_string() || !k->is_string() ||
      !id->is_string()) {
    return std::nullopt;
  }
  const auto uuid = events::Uuid::parse(id->get_string());
  if (!uuid) return std::nullopt;
  // The key is bound into SQL, and PostgreSQL text cannot hold NUL: a forged one is refused.
  if (k->get_string().find('\0') != boost::json::string::npos) return std::nullopt;
  return Cursor{std::string(s->get_string()), std::string(k->get_string()), uuid->str()};
}

std::optional<std::int64_t> parse_limit(const std::optional<std::string>& text) {
  if (!text) return kDefaultPageSize;
  if (text->empty() || text->size() > 3) return std::nullopt;
  std::int64_t n = 0;
  for (const char c : *text) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  if (n < 1 || n > kMaxPageSize) return std::nullopt;
  return n;
}

}  // namespace bazaar::edge
