// Access-token verification with a fixed secret, issuer and audience. Tokens from outside are
// parsed by libjwt and checked by TokenService; whatever they hold, the answer is a principal
// or nothing. The first input byte picks what the rest is:
//   0  a token as a client would send it (mostly rejected at the signature);
//   1  a header JSON and a claims JSON on two lines, signed here with the secret, so the
//      claim checks behind the signature are reached;
//   2  a user id and a role for issue(), whose token must verify as that principal.
#include <sodium.h>

#include <boost/json/parse.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "auth/auth_crypto.hpp"
#include "auth/jwt.hpp"
#include "fuzz_check.hpp"

using namespace bazaar;
using bazaar::fuzz::require;

namespace {

const std::string kSecret = "fuzzing-secret-0123456789abcdef-0123456789";
const events::ManualClock kClock{events::Clock::time_point{std::chrono::seconds{1'700'000'000}}};

std::string hmac_sha256(std::string_view key, std::string_view message) {
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(key.data()),
                              key.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(message.data()),
                                message.size());
  unsigned char mac[crypto_auth_hmacsha256_BYTES];
  crypto_auth_hmacsha256_final(&state, mac);
  return std::string(reinterpret_cast<const char*>(mac), sizeof mac);
}

bool valid_role(const std::string& role) {
  return role == "admin" || role == "seller" || role == "buyer";
}

// A token that verified must stop verifying when any one character of it changes: the
// signature covers all of it and the decoding is exact.
void check_tamper_evident(const edge::TokenService& tokens, const std::string& token) {
  for (const std::size_t at : {std::size_t{0}, token.find('.') + 1, token.size() - 1}) {
    if (at >= token.size()) continue;
    std::string changed = token;
    changed[at] = changed[at] == 'A' ? 'B' : 'A';
    require(!tokens.verify(changed).has_value(), "a changed token does not verify");
  }
}

void check_accepted(const edge::TokenService& tokens, const std::string& token,
                    const edge::Principal& who) {
  require(!who.user_id.empty() && valid_role(who.role), "an accepted token names user and role");
  const auto again = tokens.verify(token);
  require(again && again->user_id == who.user_id && again->role == who.role,
          "verification is repeatable");
  check_tamper_evident(tokens, token);
}

void verify_raw(const edge::TokenService& tokens, std::string_view token) {
  const auto who = tokens.verify(token);
  if (who) check_accepted(tokens, std::string(token), *who);
}

// The claims a token was accepted with, read independently of libjwt: when they read as one
// JSON object, its iss, aud and exp are the ones TokenService promises to check.
void check_claims(std::string_view claims_text) {
  boost::system::error_code ec;
  const auto claims = boost::json::parse(claims_text, ec);
  if (ec || !claims.is_object()) return;
  const auto& o = claims.get_object();
  const auto* iss = o.if_contains("iss");
  const auto* aud = o.if_contains("aud");
  const auto* exp = o.if_contains("exp");
  require(iss != nullptr && iss->is_string() && *iss == "bazaar", "an accepted token's iss");
  require(aud != nullptr && aud->is_string() && *aud == "bazaar-api", "an accepted token's aud");
  require(exp != nullptr && (exp->is_int64() || exp->is_uint64()), "an accepted token has exp");
  const auto now = std::chrono::duration_cast<std::chrono::seconds>(
                       kClock.now().time_since_epoch() - edge::TokenService::kLeeway)
                       .count();
  require(!exp->is_int64() || exp->get_int64() > now, "an accepted token has not expired");
}

void verify_signed(const edge::TokenService& tokens, std::string_view text) {
  const auto eol = text.find('\n');
  if (eol == std::string_view::npos) return;
  const std::string_view header = text.substr(0, eol);
  const std::string_view claims = text.substr(eol + 1);
  const std::string signing_input =
      edge::base64url_encode(header) + "." + edge::base64url_encode(claims);
  const std::string token =
      signing_input + "." + edge::base64url_encode(hmac_sha256(kSecret, signing_input));
  const auto who = tokens.verify(token);
  if (!who) return;
  check_accepted(tokens, token, *who);
  check_claims(claims);
}

void issue_and_verify(const edge::TokenService& tokens, std::string_view text) {
  static constexpr std::string_view kRoles[] = {"admin", "seller", "buyer"};
  if (text.empty()) return;
  const auto role = kRoles[static_cast<unsigned char>(text.front()) % 3];
  const std::string user_id(text.substr(1));
  // Ids are UUIDs in practice; any printable ASCII must survive issue and verify unchanged.
  if (user_id.empty() || user_id.size() > 200) return;
  for (const char c : user_id) {
    if (c < 0x20 || c > 0x7e) return;
  }
  const edge::Principal who{user_id, std::string(role)};
  const std::string token = tokens.issue(who);
  const auto back = tokens.verify(token);
  require(back && back->user_id == who.user_id && back->role == who.role,
          "an issued token verifies as its principal");
  check_tamper_evident(tokens, token);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const edge::TokenService tokens({.secret = kSecret}, kClock);
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0:
      verify_raw(tokens, rest);
      break;
    case 1:
      verify_signed(tokens, rest);
      break;
    default:
      issue_and_verify(tokens, rest);
      break;
  }
  return 0;
}
