#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "events/clock.hpp"
#include "http/http_types.hpp"

namespace bazaar::edge {

/// How access tokens are signed and what they claim.
struct TokenSettings {
  std::string secret;  ///< HS256 key, at least 32 bytes (BAZAAR_JWT_SECRET)
  std::string issuer = "bazaar";
  std::string audience = "bazaar-api";
  std::chrono::seconds access_ttl{15 * 60};
};

/// Issues and verifies access tokens: JWT, HS256 only. libjwt 1.10 checks only the
/// signature, so the algorithm and every time and audience claim are checked here.
class TokenService {
 public:
  /// Throws std::invalid_argument for a secret shorter than 32 bytes.
  TokenService(TokenSettings settings, const events::Clock& clock);

  /// A signed token with sub, role, iss, aud, iat, exp and a random jti.
  std::string issue(const Principal& who) const;
  /// The caller a token names, or nullopt when it is malformed, not HS256, badly signed,
  /// expired, not yet valid, or for another issuer or audience.
  std::optional<Principal> verify(std::string_view token) const;

  std::chrono::seconds access_ttl() const { return settings_.access_ttl; }

  /// Clock skew tolerated on exp, nbf and iat.
  static constexpr std::chrono::seconds kLeeway{30};

 private:
  TokenSettings settings_;
  const events::Clock& clock_;
};

}  // namespace bazaar::edge
