#include "auth/jwt.hpp"

#include <jwt.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <memory>
#include <stdexcept>

#include "auth/auth_crypto.hpp"

namespace bazaar::edge {
namespace {

struct JwtFree {
  void operator()(jwt_t* j) const { jwt_free(j); }
};
using JwtPtr = std::unique_ptr<jwt_t, JwtFree>;

struct CharFree {
  void operator()(char* s) const { std::free(s); }  // libjwt allocates its strings with malloc
};
using CString = std::unique_ptr<char, CharFree>;

// A token is a few hundred bytes; anything far larger is not ours and not worth parsing.
constexpr std::size_t kMaxTokenBytes = 4096;

// A compact JWS is base64url parts joined by dots. Anything else is refused before libjwt,
// which reads a C string: a token followed by a NUL and more would verify as the token.
bool compact_form(std::string_view token) {
  return std::all_of(token.begin(), token.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
  });
}

std::optional<std::string> string_claim(jwt_t* j, const char* name) {
  const char* v = jwt_get_grant(j, name);
  if (v == nullptr) return std::nullopt;
  return std::string(v);
}

// Integer claims; nullopt when absent. libjwt signals absence through errno.
std::optional<long> int_claim(jwt_t* j, const char* name) {
  errno = 0;
  const long v = jwt_get_grant_int(j, name);
  if (errno != 0) return std::nullopt;
  return v;
}

std::string hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (const char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0x0f]);
  }
  return out;
}

}  // namespace

TokenService::TokenService(TokenSettings settings, const events::Clock& clock)
    : settings_(std::move(settings)), clock_(clock) {
  if (settings_.secret.size() < 32) {
    throw std::invalid_argument("the JWT secret must be at least 32 bytes");
  }
  ensure_sodium();
}

std::string TokenService::issue(const Principal& who) const {
  jwt_t* raw = nullptr;
  if (jwt_new(&raw) != 0 || raw == nullptr) throw std::runtime_error("jwt_new failed");
  const JwtPtr j(raw);
  const auto now =
      std::chrono::duration_cast<std::chrono::seconds>(clock_.now().time_since_epoch()).count();
  const long iat = static_cast<long>(now);
  const long exp = static_cast<long>(now + settings_.access_ttl.count());
  const std::string jti = hex(random_bytes(16));
  int rc = jwt_add_grant(j.get(), "sub", who.user_id.c_str());
  rc |= jwt_add_grant(j.get(), "role", who.role.c_str());
  rc |= jwt_add_grant(j.get(), "iss", settings_.issuer.c_str());
  rc |= jwt_add_grant(j.get(), "aud", settings_.audience.c_str());
  rc |= jwt_add_grant_int(j.get(), "iat", iat);
  rc |= jwt_add_grant_int(j.get(), "exp", exp);
  rc |= jwt_add_grant(j.get(), "jti", jti.c_str());
  rc |= jwt_set_alg(j.get(), JWT_ALG_HS256,
                    reinterpret_cast<const unsigned char*>(settings_.secret.data()),
                    static_cast<int>(settings_.secret.size()));
  if (rc != 0) throw std::runtime_error("could not build a JWT");
  const CString encoded(jwt_encode_str(j.get()));
  if (!encoded) throw std::runtime_error("jwt_encode_str failed");
  return std::string(encoded.get());
}

std::optional<Principal> TokenService::verify(std::string_view token) const {
  if (token.empty() || token.size() > kMaxTokenBytes || !compact_form(token)) return std::nullopt;
  const std::string text(token);
  jwt_t* raw = nullptr;
  // The key is always passed: with a NULL key libjwt 1.10 accepts `alg: none`.
  const int rc = jwt_decode(&raw, text.c_str(),
                            reinterpret_cast<const unsigned char*>(settings_.secret.data()),
                            static_cast<int>(settings_.secret.size()));
  const JwtPtr j(raw);
  if (rc != 0 || !j) return std::nullopt;
  // Pinned: a token whose header names another algorithm was never signed by us.
  if (jwt_get_alg(j.get()) != JWT_ALG_HS256) return std::nullopt;

  const auto iss = string_claim(j.get(), "iss");
  const auto aud = string_claim(j.get(), "aud");
  if (!iss || *iss != settings_.issuer || !aud || *aud != settings_.audience) return std::nullopt;

  const long now = static_cast<long>(
      std::chrono::duration_cast<std::chrono::seconds>(clock_.now().time_since_epoch()).count());
  const long leeway = static_cast<long>(kLeeway.count());
  const auto exp = int_claim(j.get(), "exp");
  // The leeway goes on our side of each comparison: a claim near LONG_MAX must not overflow.
  if (!exp || now - leeway >= *exp) return std::nullopt;
  if (const auto nbf = int_claim(j.get(), "nbf"); nbf && now + leeway < *nbf) return std::nullopt;
  if (const auto iat = int_claim(j.get(), "iat"); iat && now + leeway < *iat) return std::nullopt;

  auto sub = string_claim(j.get(), "sub");
  auto role = string_claim(j.get(), "role");
  if (!sub || sub->empty() || !role) return std::nullopt;
  if (*role != "admin" && *role != "seller" && *role != "buyer") return std::nullopt;
  return Principal{std::move(*sub), std::move(*role)};
}

}  // namespace bazaar::edge
