#pragma once

#include <string>
#include <string_view>

#include "api_context.hpp"
#include "auth/jwt.hpp"
#include "auth/passwords.hpp"
#include "http/router.hpp"

namespace bazaar::edge {

/// How many sign-in, sign-up and one-time-code requests each client address may make: a burst
/// at once, then a steady rate; beyond it they are answered 429 with Retry-After.
struct AuthRateLimit {
  double per_minute = 60;
  double burst = 30;
};

/// POST /auth/register, /auth/login, /auth/token, /auth/refresh, /auth/logout,
/// /auth/otp/request and /auth/otp/verify.
void register_auth_routes(Router& router, ApiContext& api, const TokenService& tokens,
                          const PasswordParams& params, const AuthRateLimit& rate = {});

/// Verifies the bearer token (`Authorization: Bearer`, or `?access_token=` on /ws only,
/// where browsers cannot set headers) and that its user still exists and is enabled; the
/// role is read from the database, or from `roles` when given, which forgets an account as its
/// row changes, so a demotion takes effect at once.
Authenticator make_authenticator(const TokenService& tokens, EdgeDb& db,
                                 RoleCache* roles = nullptr);

/// Creates the configured first admin unless a user with that email exists; idempotent,
/// also when several instances start together. Throws std::invalid_argument for an invalid
/// email or password.
void ensure_first_admin(ApiContext& api, const std::string& email, const std::string& password,
                        const PasswordParams& params);

/// The email rule: one '@', something before it, a dot inside the domain, no spaces,
/// at most 320 characters.
bool valid_email(std::string_view email);
/// ASCII lower-case, how emails are stored and compared.
std::string lower_ascii(std::string_view text);

}  // namespace bazaar::edge
