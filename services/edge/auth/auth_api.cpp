#include "auth/auth_api.hpp"

#include <soci/soci.h>

#include <algorithm>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <memory>
#include <stdexcept>
#include <variant>

#include "auth/auth_crypto.hpp"
#include "auth/contacts.hpp"
#include "auth/contacts_api.hpp"
#include "auth/identity_store.hpp"
#include "auth/otp.hpp"
#include "events/outbox.hpp"
#include "events/uuid.hpp"
#include "http/rate_limiter.hpp"
#include "http/request_body.hpp"
#include "http/url_codec.hpp"

namespace bazaar::edge {
namespace {

constexpr std::chrono::hours kRefreshTtl{24 * 30};
constexpr std::size_t kRefreshBytes = 32;
// Generous bounds on what a client may send before any work is done with it.
constexpr std::size_t kMaxSecretBytes = 1024;

struct AuthDeps {
  AuthDeps(ApiContext& a, const TokenService& t, const PasswordParams& p)
      : api(a),
        tokens(t),
        params(p),
        authenticate(make_authenticator(t, a.db, a.role_cache)),
        dummy_hash(hash_password("not the password of anyone", p)),
        ids(a.clock, events::system_random()) {}

  ApiContext& api;
  const TokenService& tokens;
  PasswordParams params;
  Authenticator authenticate;
  std::string dummy_hash;  ///< verified for unknown emails so timing does not tell
  mutable events::UuidV7Generator ids;
};

struct TokenPair {
  std::string access;
  std::string refresh;
};

bool known_role(const std::string& role) {
  return role == "buyer" || role == "seller" || role == "admin";
}

// Starts a new family when `family_id` is empty (a sign-in), else continues it (rotation).
TokenPair issue_pair(soci::session& sql, const AuthDeps& d, const Principal& who,
                     std::string family_id) {
  const auto now = d.api.clock.now();
  if (family_id.empty()) {
    family_id = d.ids.next().str();
    identity::start_family(sql, family_id, who.user_id, now);
  }
  TokenPair pair{d.tokens.issue(who), base64url_encode(random_bytes(kRefreshBytes))};
  identity::insert_refresh(sql, sha256_hex(pair.refresh), family_id, who.user_id, now,
                           now + kRefreshTtl);
  return pair;
}

HttpResponse token_response(const AuthDeps& d, const TokenPair& pair) {
  const boost::json::object body{{"access_token", pair.access},
                                 {"refresh_token", pair.refresh},
                                 {"token_type", "bearer"},
                                 {"expires_in", d.tokens.access_ttl().count()}};
  HttpResponse r = json_response(200, boost::json::serialize(body));
  // RFC 6749 §5.1: token responses must not be cached.
  r.headers.emplace_back("Cache-Control", "no-store");
  r.headers.emplace_back("Pragma", "no-cache");
  return r;
}

HttpResponse bad_credentials() {
  return problem(401, "Unauthorized", "the email or password is wrong");
}

HttpResponse bad_refresh() {
  return problem(401, "Unauthorized", "the refresh token is invalid, expired or revoked");
}

// The same answer and roughly the same work for an unknown email, a wrong password and a
// disabled account, so the endpoint does not reveal which accounts exist.
HttpResponse sign_in(const AuthDeps& d, const std::string& email, const std::string& password) {
  std::optional<identity::User> user;
  d.api.db.read(
      [&](soci::session& sql) { user = identity::user_by_email(sql, lower_ascii(email)); });
  const bool bounded = password.size() <= kMaxSecretBytes;
  if (!user || user->deleted) {
    if (bounded) (void)verify_password(password, d.dummy_hash);
    return bad_credentials();
  }
  const bool matches = bounded && verify_password(password, user->password_hash);
  if (!matches || user->disabled) return bad_credentials();
  TokenPair pair;
  d.api.db.transact([&](soci::session& sql, events::OutboxWriter&) {
    pair = issue_pair(sql, d, Principal{user->id, user->role}, {});
  });
  return token_response(d, pair);
}

// A password field of a new account: a string of kMinPasswordChars..kMaxPasswordChars.
std::string new_password_field(FieldCheck& check, const boost::json::object& body,
                               std::string_view field) {
  const auto* v = body.if_contains(field);
  if (v == nullptr) {
    check.fail(std::string(field), "is required");
  } else if (!v->is_string()) {
    check.fail(std::string(field), "must be a string");
  } else if (!acceptable_password(v->get_string())) {
    check.fail(std::string(field), "must be " + std::to_string(kMinPasswordChars) + " to " +
                                       std::to_string(kMaxPasswordChars) + " characters");
  } else {
    return std::string(v->get_string());
  }
  return {};
}

HttpResponse do_register(const AuthDeps& d, const RequestContext& c) {
  auto body = parse_json_body(c.request);
  if (body.error) return *body.error;
  FieldCheck check(body.object);
  std::string email = lower_ascii(check.required_string("email", 3, 320));
  if (!email.empty() && !valid_email(email)) {
    check.fail("email", "must be an email address");
  }
  const std::string password = new_password_field(check, body.object, "password");
  const std::string name = check.required_string("name", 1, 200);
  const std::string role = check.optional_string("role", 1, 20).value_or("buyer");
  if (!known_role(role)) check.fail("role", "must be buyer, seller or admin");
  if (!check.ok()) return check.problem();

  if (role == "admin") {
    const auto caller = d.authenticate(c.request);
    if (!caller || caller->role != "admin") {
      return problem(403, "Forbidden", "only an admin may create an admin");
    }
  }
  bool taken = false;
  d.api.db.read([&](soci::session& sql) {
    email = identity::stored_email(sql, email);
    taken = identity::user_by_email(sql, email).has_value();
  });
  if (taken) return problem(409, "Conflict", "an account with this email exists");

  identity::User user;
  user.id = d.ids.next().str();
  user.email = email;
  user.name = name;
  user.role = role;
  user.password_hash = hash_password(password, d.params);
  user.created_at = user.updated_at = events::format_rfc3339(d.api.clock.now());
  bool inserted = false;
  d.api.db.transact([&](soci::session& sql, events::OutboxWriter& out) {
    inserted = identity::insert_user(sql, user);
    if (!inserted) return;  // lost a race for the email: nothing written
    identity::emit_registered(out, d.api.factory, user);
  });
  if (!inserted) return problem(409, "Conflict", "an account with this email exists");
  const boost::json::object answer{
      {"id", user.id}, {"email", user.email}, {"name", user.name}, {"role", user.role}};
  return json_response(201, boost::json::serialize(answer));
}

HttpResponse do_login(const AuthDeps& d, const RequestContext& c) {
  auto body = parse_json_body(c.request);
  if (body.error) return *body.error;
  FieldCheck check(body.object);
  const std::string email = check.required_string("email", 1, 320);
  const std::string password = check.required_string("password", 1, kMaxSecretBytes);
  if (!check.ok()) return check.problem();
  return sign_in(d, email, password);
}

// OAuth2 resource-owner password grant (RFC 6749 §4.3), as OpenAPI "password" flows send it.
HttpResponse do_token(const AuthDeps& d, const RequestContext& c) {
  if (media_type(c.request) != "application/x-www-form-urlencoded") {
    return problem(415, "Unsupported Media Type", "send application/x-www-form-urlencoded");
  }
  const auto form = parse_query(c.request.body);
  if (!form) return problem(400, "Bad Request", "the form is not validly url-encoded");
  const auto field = [&](const char* name) -> std::optional<std::string> {
    const auto it = form->find(name);
    if (it == form->end()) return std::nullopt;
    return it->second;
  };
  if (const auto grant = field("grant_type"); grant && *grant != "password") {
    return problem(400, "Bad Request", "grant_type must be password");
  }
  const auto username = field("username");
  const auto password = field("password");
  std::vector<FieldError> missing;
  if (!username || username->empty()) missing.push_back({"username", "is required"});
  if (!password || password->empty()) missing.push_back({"password", "is required"});
  if (!missing.empty()) {
    return problem(422, "Unprocessable Content", "username and password are required",
                   std::move(missing));
  }
  return sign_in(d, *username, *password);
}

// The stored hash of the refresh token a request presents, or the problem to answer.
std::variant<std::string, HttpResponse> presented_refresh_hash(const RequestContext& c) {
  auto body = parse_json_body(c.request);
  if (body.error) return *body.error;
  FieldCheck check(body.object);
  const std::string presented = check.required_string("refresh_token", 1, kMaxSecretBytes);
  if (!check.ok()) return check.problem();
  return sha256_hex(presented);
}

HttpResponse do_refresh(const AuthDeps& d, const RequestContext& c) {
  auto presented = presented_refresh_hash(c);
  if (auto* refused = std::get_if<HttpResponse>(&presented)) return std::move(*refused);
  const std::string hash = std::get<std::string>(std::move(presented));
  std::optional<TokenPair> pair;
  // The transaction commits in every case, so a detected reuse revokes for good.
  d.api.db.transact([&](soci::session& sql, events::OutboxWriter&) {
    pair.reset();
    const auto token = identity::refresh_for_update(sql, hash);
    if (!token) return;
    const auto now = d.api.clock.now();
    switch (identity::judge_refresh(*token, now)) {
      case identity::RefreshVerdict::kReuse:
        identity::revoke_family(sql, token->family_id, now);
        return;
      case identity::RefreshVerdict::kRefuse:
        return;
      case identity::RefreshVerdict::kRotate:
        identity::mark_refresh_used(sql, hash, now);
        pair = issue_pair(sql, d, Principal{token->user_id, token->role}, token->family_id);
        return;
    }
  });
  if (!pair) return bad_refresh();
  return token_response(d, *pair);
}

HttpResponse do_logout(const AuthDeps& d, const RequestContext& c) {
  auto presented = presented_refresh_hash(c);
  if (auto* refused = std::get_if<HttpResponse>(&presented)) return std::move(*refused);
  const std::string hash = std::get<std::string>(std::move(presented));
  d.api.db.transact([&](soci::session& sql, events::OutboxWriter&) {
    if (const auto token = identity::refresh_for_update(sql, hash)) {
      identity::revoke_family(sql, token->family_id, d.api.clock.now());
    }
  });
  // Also for an unknown token: logging out twice is not an error.
  HttpResponse r;
  r.status = 204;
  r.content_type.clear();
  return r;
}

// Who a one-time code is for: an email, or a verified phone number (E.164), one of them.
struct OtpAddress {
  std::string email;
  std::string phone;
};

std::optional<OtpAddress> otp_address(const boost::json::object& body, FieldCheck& check) {
  OtpAddress a;
  const bool by_phone = body.contains("phone");
  if (by_phone && body.contains("email")) {
    check.fail("phone", "give an email or a phone number, not both");
  } else if (by_phone) {
    a.phone = check.required_string("phone", 1, 32);
    if (check.ok() && !valid_e164(a.phone)) {
      check.fail("phone", "must be an E.164 number such as +4915112345678");
    }
  } else {
    a.email = lower_ascii(check.required_string("email", 1, 320));
  }
  if (!check.ok()) return std::nullopt;
  return a;
}

// The account a code is for; a phone number names an account once verified.
std::optional<identity::User> otp_user(soci::session& sql, const OtpAddress& a) {
  if (a.phone.empty()) return identity::user_by_email(sql, a.email);
  const auto id = user_by_verified_phone(sql, a.phone);
  return id ? identity::user_by_id(sql, *id) : std::nullopt;
}

HttpResponse do_otp_request(const AuthDeps& d, const RequestContext& c) {
  auto body = parse_json_body(c.request);
  if (body.error) return *body.error;
  FieldCheck check(body.object);
  const auto address = otp_address(body.object, check);
  if (!address) return check.problem();
  if (!address->phone.empty() || valid_email(address->email)) {
    d.api.db.transact([&](soci::session& sql, events::OutboxWriter& out) {
      const auto user = otp_user(sql, *address);
      if (!user || user->disabled || user->deleted) return;
      const auto now = d.api.clock.now();
      const auto expires = now + kOtpTtl;
      const std::string code = generate_otp_code();
      if (!identity::store_otp(sql, user->id, hash_otp_code(user->id, code), expires, now)) return;
      identity::emit_one_time_code(
          out, d.api.factory,
          {.user_id = user->id, .code = code, .expires_at = events::format_rfc3339(expires)});
    });
  }
  // The same answer whether or not the account exists.
  return json_response(202, R"({"detail":"if the account exists, a sign-in code is on its way"})");
}

HttpResponse do_otp_verify(const AuthDeps& d, const RequestContext& c) {
  auto body = parse_json_body(c.request);
  if (body.error) return *body.error;
  FieldCheck check(body.object);
  const auto address = otp_address(body.object, check);
  const std::string code = check.required_string("code", 1, 32);
  if (!address || !check.ok()) return check.problem();
  std::optional<TokenPair> pair;
  // Commits in every case, so a wrong guess is counted.
  d.api.db.transact([&](soci::session& sql, events::OutboxWriter&) {
    pair.reset();
    const auto user = otp_user(sql, *address);
    if (!user || user->disabled || user->deleted) return;
    const auto state = identity::otp_for_update(sql, user->id);
    if (!state) return;
    const auto now = d.api.clock.now();
    switch (check_otp(*state, user->id, code, now)) {
      case OtpVerdict::kAccepted:
        identity::mark_otp_used(sql, user->id, now);
        pair = issue_pair(sql, d, Principal{user->id, user->role}, {});
        return;
      case OtpVerdict::kWrong:
        identity::count_otp_attempt(sql, user->id);
        return;
      case OtpVerdict::kExpired:
      case OtpVerdict::kUsed:
      case OtpVerdict::kTooManyAttempts:
        return;
    }
  });
  if (!pair) return problem(401, "Unauthorized", "the code is wrong, expired or used up");
  return token_response(d, *pair);
}

std::string bearer_token(const HttpRequest& request) {
  const std::string header = request.header("authorization");
  constexpr std::string_view kScheme = "bearer ";
  if (header.size() > kScheme.size() && lower_ascii(header.substr(0, kScheme.size())) == kScheme) {
    std::string token = header.substr(kScheme.size());
    while (!token.empty() && token.front() == ' ') token.erase(0, 1);
    while (!token.empty() && token.back() == ' ') token.pop_back();
    return token;
  }
  // Browsers cannot set headers on a WebSocket upgrade; everywhere else a token in the
  // URL would end up in access logs and histories.
  if (request.path == "/ws") {
    if (auto param = request.param("access_token")) return *param;
  }
  return {};
}

}  // namespace

bool valid_email(std::string_view email) {
  const std::size_t length = utf8_length(email);
  if (length < 3 || length > 320) return false;
  const auto at = email.find('@');
  if (at == std::string_view::npos || at == 0 ||
      email.find('@', at + 1) != std::string_view::npos) {
    return false;
  }
  const std::string_view domain = email.substr(at + 1);
  const auto dot = domain.find('.');
  if (dot == std::string_view::npos || dot == 0 || domain.back() == '.') return false;
  for (const char ch : email) {
    const auto u = static_cast<unsigned char>(ch);
    if (u <= 0x20 || u == 0x7f) return false;
  }
  return true;
}

std::string lower_ascii(std::string_view text) {
  std::string out(text);
  for (char& ch : out) {
    if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
  }
  return out;
}

Authenticator make_authenticator(const TokenService& tokens, EdgeDb& db, RoleCache* roles) {
  return [&tokens, &db, roles](const HttpRequest& request) -> std::optional<Principal> {
    const std::string token = bearer_token(request);
    if (token.empty()) return std::nullopt;
    auto claimed = tokens.verify(token);
    if (!claimed) return std::nullopt;
    const auto id = events::Uuid::parse(claimed->user_id);
    if (!id) return std::nullopt;
    const std::string user_id = id->str();
    std::optional<std::string> role;
    if (roles != nullptr) {
      if (auto kept = roles->role(user_id)) {
        if (kept->empty()) return std::nullopt;
        return Principal{user_id, std::move(*kept)};
      }
    }
    const RoleCache::Ticket ticket = roles != nullptr ? roles->ticket() : RoleCache::Ticket{};
    db.read([&](soci::session& sql) { role = identity::active_role(sql, user_id); });
    if (roles != nullptr) roles->keep(ticket, user_id, role.value_or(""));
    if (!role) return std::nullopt;
    return Principal{user_id, *role};
  };
}

namespace {

// Sign-in, sign-up and code routes cost an argon2 hash or send a message: each client address
// gets a burst and then a steady rate (AuthRateLimit), then 429 with Retry-After.
RouteHandler limited(std::shared_ptr<RateLimiter> limiter, RouteHandler handler) {
  return [limiter = std::move(limiter), handler = std::move(handler)](const RequestContext& c) {
    if (!limiter->allow(c.request.remote)) {
      HttpResponse r = problem(429, "Too Many Requests", "too many sign-in requests; slow down");
      r.headers.emplace_back(
          "Retry-After",
          std::to_string(std::max(1, limiter->retry_after_seconds(c.request.remote))));
      return r;
    }
    return handler(c);
  };
}

}  // namespace

void register_auth_routes(Router& router, ApiContext& api, const TokenService& tokens,
                          const PasswordParams& params, const AuthRateLimit& rate) {
  const auto d = std::make_shared<const AuthDeps>(api, tokens, params);
  const auto limiter = std::make_shared<RateLimiter>(rate.per_minute, rate.burst, api.clock);
  router.add("POST", "/auth/register", Access::kAnyone,
             limited(limiter, [d](const RequestContext& c) { return do_register(*d, c); }));
  router.add("POST", "/auth/login", Access::kAnyone,
             limited(limiter, [d](const RequestContext& c) { return do_login(*d, c); }));
  router.add("POST", "/auth/token", Access::kAnyone,
             limited(limiter, [d](const RequestContext& c) { return do_token(*d, c); }));
  router.add("POST", "/auth/refresh", Access::kAnyone,
             [d](const RequestContext& c) { return do_refresh(*d, c); });
  router.add("POST", "/auth/logout", Access::kAnyone,
             [d](const RequestContext& c) { return do_logout(*d, c); });
  router.add("POST", "/auth/otp/request", Access::kAnyone,
             limited(limiter, [d](const RequestContext& c) { return do_otp_request(*d, c); }));
  router.add("POST", "/auth/otp/verify", Access::kAnyone,
             limited(limiter, [d](const RequestContext& c) { return do_otp_verify(*d, c); }));
}

void ensure_first_admin(ApiContext& api, const std::string& email, const std::string& password,
                        const PasswordParams& params) {
  std::string normalised = lower_ascii(email);
  if (!valid_email(normalised)) throw std::invalid_argument("the first admin's email is invalid");
  if (!acceptable_password(password)) {
    throw std::invalid_argument("the first admin's password must be 8 to 128 characters");
  }
  bool exists = false;
  api.db.read([&](soci::session& sql) {
    normalised = identity::stored_email(sql, normalised);
    exists = identity::user_by_email(sql, normalised).has_value();
  });
  if (exists) return;
  events::UuidV7Generator ids(api.clock, events::system_random());
  identity::User user;
  user.id = ids.next().str();
  user.email = normalised;
  user.name = "Administrator";
  user.role = "admin";
  user.password_hash = hash_password(password, params);
  user.created_at = user.updated_at = events::format_rfc3339(api.clock.now());
  // A second instance starting at the same moment loses the insert and emits nothing.
  api.db.transact([&](soci::session& sql, events::OutboxWriter& out) {
    if (!identity::insert_user(sql, user)) return;
    identity::emit_registered(out, api.factory, user);
  });
}

}  // namespace bazaar::edge
