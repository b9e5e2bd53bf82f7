#include "auth/contacts_api.hpp"

#include <soci/soci.h>

#include <boost/json/serialize.hpp>
#include <memory>

#include "auth/contacts.hpp"
#include "auth/identity_store.hpp"
#include "auth/otp.hpp"
#include "events/outbox.hpp"
#include "http/problem.hpp"
#include "http/request_body.hpp"

namespace bazaar::edge {
namespace {

constexpr const char* kContacts = R"sql(
SELECT COALESCE(phone, ''), (phone_verified_at IS NOT NULL)::int, COALESCE(chat_id, ''),
       COALESCE((SELECT phone FROM phone_verifications v
                 WHERE v.user_id = u.user_id AND v.expires_at > now()), '')
FROM users u WHERE user_id = CAST(:id AS uuid))sql";

constexpr const char* kPhoneOwner = R"sql(
SELECT CAST(user_id AS text) FROM users
WHERE phone = :phone AND phone_verified_at IS NOT NULL AND deleted_at IS NULL AND NOT disabled)sql";

// Who holds a number as the unique index users_verified_phone counts it: a disabled or deleted
// account too, so binding it to another is a 409, never the index's error.
constexpr const char* kPhoneHolder = R"sql(
SELECT CAST(user_id AS text) FROM users WHERE phone = :phone AND phone_verified_at IS NOT NULL)sql";

std::optional<std::string> phone_holder(soci::session& sql, const std::string& phone) {
  std::string id;
  sql << kPhoneHolder, soci::use(phone, "phone"), soci::into(id);
  if (!sql.got_data()) return std::nullopt;
  return id;
}

// A new code replaces a pending one, at most one a minute, and keeps the wrong guesses of the
// last quarter hour (as sign-in codes do).
constexpr const char* kStartVerification = R"sql(
INSERT INTO phone_verifications (user_id, phone, code_hash, expires_at, attempts, created_at)
VALUES (CAST(:user AS uuid), :phone, :hash, CAST(:expires AS timestamptz), 0,
        CAST(:now AS timestamptz))
ON CONFLICT (user_id) DO UPDATE
SET phone = EXCLUDED.phone, code_hash = EXCLUDED.code_hash, expires_at = EXCLUDED.expires_at,
    created_at = EXCLUDED.created_at,
    attempts = CASE WHEN phone_verifications.created_at > EXCLUDED.created_at - interval '15 minutes'
                    THEN phone_verifications.attempts ELSE 0 END
WHERE phone_verifications.created_at <= EXCLUDED.created_at - interval '60 seconds'
RETURNING 1)sql";

constexpr const char* kVerificationForUpdate = R"sql(
SELECT phone, code_hash, (extract(epoch FROM expires_at) * 1000)::bigint, attempts
FROM phone_verifications WHERE user_id = CAST(:user AS uuid) FOR UPDATE)sql";

constexpr const char* kLockPhone =
    "SELECT pg_advisory_xact_lock(hashtext('bazaar.verified_phone'), hashtext(CAST(:phone AS "
    "text)))";
constexpr const char* kCountAttempt =
    "UPDATE phone_verifications SET attempts = attempts + 1 WHERE user_id = CAST(:user AS uuid)";

constexpr const char* kEndVerification =
    "DELETE FROM phone_verifications WHERE user_id = CAST(:user AS uuid)";

// Fails on the unique index when another account verified the number meanwhile.
constexpr const char* kBindPhone = R"sql(
UPDATE users SET phone = :phone, phone_verified_at = CAST(:now AS timestamptz),
       updated_at = CAST(:same_now AS timestamptz)
WHERE user_id = CAST(:user AS uuid))sql";

constexpr const char* kSetChat = R"sql(
UPDATE users SET chat_id = NULLIF(:chat, ''), updated_at = CAST(:now AS timestamptz)
WHERE user_id = CAST(:user AS uuid))sql";

HttpResponse json_ok(int status, const boost::json::object& body) {
  return json_response(status, boost::json::serialize(body));
}

boost::json::object contacts_of(soci::session& sql, const std::string& user_id) {
  boost::json::object o;
  add_contacts(sql, user_id, o);
  return o;
}

HttpResponse start_phone(ApiContext& api, const RequestContext& c) {
  auto body = parse_json_body(c.request);
  if (body.error) return *body.error;
  FieldCheck check(body.object);
  const std::string phone = check.required_string("phone", 1, 32);
  if (check.ok() && !valid_e164(phone)) {
    check.fail("phone", "must be an E.164 number such as +4915112345678");
  }
  if (!check.ok()) return check.problem();
  const std::string& me = c.principal->user_id;
  std::optional<HttpResponse> answer;
  api.db.transact([&](soci::session& sql, events::OutboxWriter& out) {
    answer.reset();
    const auto owner = phone_holder(sql, phone);
    if (owner && *owner != me) {
      answer = problem(409, "Conflict", "this phone number belongs to another account");
      return;
    }
    if (owner) {  // already this user's verified number
      answer = json_ok(200, contacts_of(sql, me));
      return;
    }
    const auto now = api.clock.now();
    const auto expires = now + kOtpTtl;
    const std::string code = generate_otp_code();
    const std::string hash = hash_otp_code(phone_code_subject(me, phone), code);
    const std::string stamp = events::format_rfc3339(now);
    const std::string until = events::format_rfc3339(expires);
    int started = 0;
    sql << kStartVerification, soci::use(me, "user"), soci::use(phone, "phone"),
        soci::use(hash, "hash"), soci::use(until, "expires"), soci::use(stamp, "now"),
        soci::into(started);
    if (!sql.got_data()) {
      answer = problem(429, "Too Many Requests", "one verification code a minute; try again soon");
      answer->headers.emplace_back("Retry-After", "60");
      return;
    }
    identity::emit_one_time_code(out, api.factory,
                                 {.user_id = me,
                                  .code = code,
                                  .expires_at = until,
                                  .purpose = std::string("phone_verification"),
                                  .phone = phone});
  });
  if (answer) return *answer;
  boost::json::object pending{{"phone_pending", phone},
                              {"detail", "a verification code is on its way"}};
  return json_ok(202, pending);
}

HttpResponse verify_phone(ApiContext& api, const RequestContext& c) {
  auto body = parse_json_body(c.request);
  if (body.error) return *body.error;
  FieldCheck check(body.object);
  const std::string code = check.required_string("code", 1, 32);
  if (!check.ok()) return check.problem();
  const std::string& me = c.principal->user_id;
  std::optional<HttpResponse> answer;
  // Commits in every case, so a wrong guess is counted.
  api.db.transact([&](soci::session& sql, events::OutboxWriter&) {
    answer.reset();
    std::string phone;
    OtpState state;
    long long expires_ms = 0;
    sql << kVerificationForUpdate, soci::use(me, "user"), soci::into(phone),
        soci::into(state.code_hash), soci::into(expires_ms), soci::into(state.attempts);
    if (!sql.got_data()) {
      answer = problem(409, "Conflict", "no phone verification is pending (PUT /users/me/phone)");
      return;
    }
    state.expires_at = events::Clock::time_point{std::chrono::milliseconds{expires_ms}};
    const auto now = api.clock.now();
    switch (check_otp(state, phone_code_subject(me, phone), code, now)) {
      case OtpVerdict::kAccepted:
        break;
      case OtpVerdict::kWrong:
        sql << kCountAttempt, soci::use(me, "user");
        [[fallthrough]];
      case OtpVerdict::kExpired:
      case OtpVerdict::kUsed:
      case OtpVerdict::kTooManyAttempts:
        answer = problem(422, "Unprocessable Content", "the code is wrong, expired or used up",
                         {{"code", "is wrong, expired or used up"}});
        return;
    }
    // Verifications of one number queue here, so the second sees the first's binding and gets
    // the 409 instead of tripping over the unique index.
    sql << kLockPhone, soci::use(phone, "phone");
    if (const auto owner = phone_holder(sql, phone); owner && *owner != me) {
      answer = problem(409, "Conflict", "this phone number belongs to another account");
      return;
    }
    const std::string stamp = events::format_rfc3339(now);
    sql << kBindPhone, soci::use(phone, "phone"), soci::use(stamp, "now"),
        soci::use(stamp, "same_now"), soci::use(me, "user");
    sql << kEndVerification, soci::use(me, "user");
    answer = json_ok(200, contacts_of(sql, me));
  });
  return *answer;
}

HttpResponse set_chat(ApiContext& api, const RequestContext& c, bool bind) {
  std::string chat;
  if (bind) {
    auto body = parse_json_body(c.request);
    if (body.error) return *body.error;
    const auto* value = body.object.if_contains("chat_id");
    const auto parsed = value != nullptr ? chat_id_of(*value) : std::nullopt;
    if (!parsed) {
      return problem(422, "Unprocessable Content", "chat_id is missing or invalid",
                     {{"chat_id", value == nullptr ? "is required"
                                                   : "must be a numeric chat id or an @channel"}});
    }
    chat = *parsed;
  }
  const std::string& me = c.principal->user_id;
  std::optional<HttpResponse> answer;
  api.db.transact([&](soci::session& sql, events::OutboxWriter& out) {
    answer.reset();
    const boost::json::object now_known = contacts_of(sql, me);
    if (bind && !now_known.contains("phone")) {
      answer = problem(409, "Conflict", "verify a phone number first (PUT /users/me/phone)");
      return;
    }
    const std::string stamp = events::format_rfc3339(api.clock.now());
    sql << kSetChat, soci::use(chat, "chat"), soci::use(stamp, "now"), soci::use(me, "user");
    contracts::identity::UserChatBoundV1 bound{.user_id = me, .chat_id = std::nullopt};
    if (bind) bound.chat_id = chat;
    identity::emit(out, api.factory, bound);
    if (bind) answer = json_ok(200, contacts_of(sql, me));
  });
  if (answer) return *answer;
  HttpResponse r;
  r.status = 204;
  r.content_type.clear();
  return r;
}

}  // namespace

void add_contacts(soci::session& sql, const std::string& user_id, boost::json::object& user) {
  std::string phone, chat, pending;
  int verified = 0;
  sql << kContacts, soci::use(user_id, "id"), soci::into(phone), soci::into(verified),
      soci::into(chat), soci::into(pending);
  if (!sql.got_data()) return;
  if (verified != 0 && !phone.empty()) user["phone"] = phone;
  if (!pending.empty()) user["phone_pending"] = pending;
  if (!chat.empty()) user["chat_id"] = chat;
}

std::optional<std::string> user_by_verified_phone(soci::session& sql, const std::string& phone) {
  std::string id;
  sql << kPhoneOwner, soci::use(phone, "phone"), soci::into(id);
  if (!sql.got_data()) return std::nullopt;
  return id;
}

void register_contact_routes(Router& router, ApiContext& api) {
  router.add("PUT", "/users/me/phone", Access::kSignedIn,
             [&api](const RequestContext& c) { return start_phone(api, c); });
  router.add("POST", "/users/me/phone/verify", Access::kSignedIn,
             [&api](const RequestContext& c) { return verify_phone(api, c); });
  router.add("PUT", "/users/me/chat", Access::kSignedIn,
             [&api](const RequestContext& c) { return set_chat(api, c, true); });
  router.add("DELETE", "/users/me/chat", Access::kSignedIn,
             [&api](const RequestContext& c) { return set_chat(api, c, false); });
}

}  // namespace bazaar::edge
