#include "auth/jwt.hpp"

#include <doctest/doctest.h>
#include <sodium.h>

#include <climits>

#include "auth/auth_crypto.hpp"

using namespace bazaar::edge;
using bazaar::events::ManualClock;

namespace {

const std::string kSecret = "0123456789abcdef0123456789abcdef-test-secret";

TokenSettings settings(std::string secret = kSecret) {
  TokenSettings s;
  s.secret = std::move(secret);
  return s;
}

std::vector<std::string> split(const std::string& token) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (;;) {
    const auto dot = token.find('.', start);
    parts.push_back(
        token.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return parts;
}

const Principal kBuyer{"0190f5c2-7a1b-7c3d-8e4f-123456789abc", "buyer"};

// A token with exactly these claims, signed with kSecret as TokenService signs.
std::string signed_token(const std::string& claims) {
  const std::string input =
      base64url_encode(R"({"alg":"HS256","typ":"JWT"})") + "." + base64url_encode(claims);
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(kSecret.data()),
                              kSecret.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(input.data()),
                                input.size());
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_final(&state, mac);
  return input + "." +
         base64url_encode(std::string(reinterpret_cast<const char*>(mac), sizeof mac));
}

}  // namespace

TEST_CASE("a fresh token verifies and names its user and role") {
  ManualClock clock;
  const TokenService tokens(settings(), clock);
  const std::string token = tokens.issue(kBuyer);
  CHECK(split(token).size() == 3);
  const auto who = tokens.verify(token);
  REQUIRE(who.has_value());
  CHECK(who->user_id == kBuyer.user_id);
  CHECK(who->role == "buyer");
  CHECK(tokens.access_ttl() == std::chrono::seconds(900));
}

TEST_CASE("the token header pins HS256 and the claims carry iss aud exp and jti") {
  ManualClock clock;
  const TokenService tokens(settings(), clock);
  const auto parts = split(tokens.issue(kBuyer));
  const auto header = base64url_decode(parts[0]);
  const auto claims = base64url_decode(parts[1]);
  REQUIRE(header.has_value());
  REQUIRE(claims.has_value());
  CHECK(header->find("\"HS256\"") != std::string::npos);
  for (const char* claim :
       {"\"sub\"", "\"role\"", "\"iss\"", "\"aud\"", "\"iat\"", "\"exp\"", "\"jti\""}) {
    CAPTURE(claim);
    CHECK(claims->find(claim) != std::string::npos);
  }
  CHECK(claims->find("bazaar-api") != std::string::npos);
}

TEST_CASE("an expired token is refused") {
  ManualClock clock;
  const TokenService tokens(settings(), clock);
  const std::string token = tokens.issue(kBuyer);
  clock.advance(std::chrono::minutes(15) + std::chrono::seconds(10));
  CHECK(tokens.verify(token).has_value());  // within the 30 s leeway
  clock.advance(std::chrono::seconds(25));
  CHECK_FALSE(tokens.verify(token).has_value());
}

TEST_CASE("a token issued in the future is refused") {
  ManualClock clock;
  const TokenService tokens(settings(), clock);
  clock.advance(std::chrono::minutes(5));
  const std::string token = tokens.issue(kBuyer);
  clock.advance(-std::chrono::minutes(5));
  CHECK_FALSE(tokens.verify(token).has_value());
}

TEST_CASE("a token for another audience is refused") {
  ManualClock clock;
  TokenSettings other = settings();
  other.audience = "someone-else";
  const TokenService foreign(other, clock);
  const TokenService tokens(settings(), clock);
  CHECK_FALSE(tokens.verify(foreign.issue(kBuyer)).has_value());
}

TEST_CASE("a token from another issuer is refused") {
  ManualClock clock;
  TokenSettings other = settings();
  other.issuer = "evil";
  const TokenService foreign(other, clock);
  const TokenService tokens(settings(), clock);
  CHECK_FALSE(tokens.verify(foreign.issue(kBuyer)).has_value());
}

TEST_CASE("a tampered signature is refused") {
  ManualClock clock;
  const TokenService tokens(settings(), clock);
  auto parts = split(tokens.issue(kBuyer));
  // A middle character: the last one of a base64url signature may carry only padding bits.
  char& c = parts[2][10];
  c = c == 'A' ? 'B' : 'A';
  CHECK_FALSE(tokens.verify(parts[0] + "." + parts[1] + "." + parts[2]).has_value());
}

TEST_CASE("a tampered payload is refused") {
  ManualClock clock;
  const TokenService tokens(settings(), clock);
  auto parts = split(tokens.issue(kBuyer));
  auto claims = *base64url_decode(parts[1]);
  const auto at = claims.find("\"buyer\"");
  REQUIRE(at != std::string::npos);
  claims.replace(at, 7, "\"admin\"");
  CHECK_FALSE(
      tokens.verify(parts[0] + "." + base64url_encode(claims) + "." + parts[2]).has_value());
}

TEST_CASE("an alg none token built by hand is refused") {
  ManualClock clock;
  const TokenService tokens(settings(), clock);
  const auto now =
      std::chrono::duration_cast<std::chrono::seconds>(clock.now().time_since_epoch()).count();
  const std::string claims = R"({"sub":")" + kBuyer.user_id +
                             R"(","role":"admin","iss":"bazaar","aud":"bazaar-api","iat":)" +
                             std::to_string(now) + R"(,"exp":)" + std::to_string(now + 600) + "}";
  const std::string body = base64url_encode(R"({"alg":"none"})") + "." + base64url_encode(claims);
  CHECK_FALSE(tokens.verify(body + ".").has_value());
  CHECK_FALSE(tokens.verify(body).has_value());
  const std::string typed =
      base64url_encode(R"({"alg":"none","typ":"JWT"})") + "." + base64url_encode(claims) + ".";
  CHECK_FALSE(tokens.verify(typed).has_value());
  // The same claims with a genuine signature pass, so the refusals above are about `alg`.
  auto real = split(tokens.issue(Principal{kBuyer.user_id, "admin"}));
  CHECK(tokens.verify(real[0] + "." + real[1] + "." + real[2]).has_value());
}

TEST_CASE("a token signed with another secret is refused") {
  ManualClock clock;
  const TokenService other(settings("another-secret-of-at-least-32-bytes!!"), clock);
  const TokenService tokens(settings(), clock);
  CHECK_FALSE(tokens.verify(other.issue(kBuyer)).has_value());
}

TEST_CASE("garbage is refused") {
  ManualClock clock;
  const TokenService tokens(settings(), clock);
  for (const char* junk : {"", ".", "..", "a.b.c", "not a token", "eyJhbGciOiJIUzI1NiJ9..",
                           "eyJhbGciOiJIUzI1NiJ9.e30.AAAA"}) {
    CAPTURE(junk);
    CHECK_FALSE(tokens.verify(junk).has_value());
  }
  CHECK_FALSE(tokens.verify(std::string(10000, 'a')).has_value());
}

TEST_CASE("a valid token with a NUL and more after it is refused") {
  // Found by tests/fuzz/jwt_fuzz (corpus/jwt/raw-valid-nul-tail): libjwt read up to the NUL.
  ManualClock clock;
  const TokenService tokens(settings(), clock);
  const std::string token = tokens.issue(kBuyer);
  REQUIRE(tokens.verify(token).has_value());
  CHECK_FALSE(tokens.verify(token + std::string("\0\0\0A", 4)).has_value());
  CHECK_FALSE(tokens.verify(token + std::string(1, '\0')).has_value());
  CHECK_FALSE(tokens.verify(token + " ").has_value());
  CHECK_FALSE(tokens.verify(token + "=").has_value());
}

TEST_CASE("time claims at the ends of the integer range neither overflow nor pass wrongly") {
  // Found by tests/fuzz/jwt_fuzz (corpus/jwt/signed-exp-long-max): `exp + leeway` overflowed.
  ManualClock clock;
  const TokenService tokens(settings(), clock);
  const std::string claims = R"({"sub":")" + kBuyer.user_id +
                             R"(","role":"buyer","iss":"bazaar","aud":"bazaar-api","exp":)";
  CHECK(tokens.verify(signed_token(claims + std::to_string(LONG_MAX) + "}")).has_value());
  CHECK(tokens.verify(signed_token(claims + std::to_string(LONG_MAX - 10) + "}")).has_value());
  CHECK_FALSE(tokens.verify(signed_token(claims + std::to_string(LONG_MIN) + "}")).has_value());
  CHECK_FALSE(tokens
                  .verify(signed_token(claims + std::to_string(LONG_MAX) + R"(,"nbf":)" +
                                       std::to_string(LONG_MAX) + "}"))
                  .has_value());
  CHECK(tokens
            .verify(signed_token(claims + std::to_string(LONG_MAX) + R"(,"iat":)" +
                                 std::to_string(LONG_MIN) + "}"))
            .has_value());
}

TEST_CASE("a short secret is a configuration error") {
  ManualClock clock;
  CHECK_THROWS_AS(TokenService(settings("too short"), clock), std::invalid_argument);
}
