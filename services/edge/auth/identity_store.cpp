#include "auth/identity_store.hpp"

#include <soci/soci.h>

#include "events/db.hpp"
#include "events/envelope.hpp"
#include "events/outbox.hpp"

namespace bazaar::edge::identity {
namespace {

constexpr const char* kUserByEmail = R"sql(
SELECT user_id::text, email, name, role, password_hash, disabled::int,
       (deleted_at IS NOT NULL)::int,
       to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
       to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
FROM users WHERE email = lower(CAST(:email AS text)))sql";

// Emails are stored as the database lower-cases them (a CHECK holds it to that), which knows
// more letters than ASCII.
constexpr const char* kLowerCase = "SELECT lower(CAST(:text AS text))";

constexpr const char* kUserById = R"sql(
SELECT user_id::text, email, name, role, password_hash, disabled::int,
       (deleted_at IS NOT NULL)::int,
       to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
       to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
FROM users WHERE user_id = CAST(:id AS uuid))sql";

constexpr const char* kUserByIdForUpdate = R"sql(
SELECT user_id::text, email, name, role, password_hash, disabled::int,
       (deleted_at IS NOT NULL)::int,
       to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
       to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
FROM users WHERE user_id = CAST(:id AS uuid) FOR UPDATE)sql";

// Runs on every authenticated request: a primary-key lookup, prepared, because parsing and
// planning it cost the server several times what running it did.
const events::PreparedStatement kActiveRole{"edge_active_role", R"sql(
SELECT role FROM users
WHERE user_id = CAST($1 AS uuid) AND NOT disabled AND deleted_at IS NULL)sql"};

constexpr const char* kInsertUser = R"sql(
INSERT INTO users (user_id, email, name, role, password_hash, disabled, created_at, updated_at)
VALUES (CAST(:id AS uuid), :email, :name, :role, :hash, (:disabled <> 0),
        CAST(:created AS timestamptz), CAST(:updated AS timestamptz))
ON CONFLICT (email) DO NOTHING
RETURNING user_id::text)sql";

constexpr const char* kUpdateUser = R"sql(
UPDATE users SET email = :email, name = :name, role = :role, password_hash = :hash,
       disabled = (:disabled <> 0), updated_at = CAST(:updated AS timestamptz)
WHERE user_id = CAST(:id AS uuid))sql";

// The scrubbed email stays unique and lower-case, and can never receive mail (.invalid). The
// phone number and the chat go too: personal data, and a verified number is another account's
// to take once its holder is gone.
constexpr const char* kSoftDelete = R"sql(
WITH before AS (SELECT chat_id FROM users WHERE user_id = CAST(:id AS uuid))
UPDATE users SET disabled = true, deleted_at = CAST(:now AS timestamptz),
       updated_at = CAST(:updated AS timestamptz),
       email = 'deleted-' || user_id::text || '@deleted.invalid',
       name = 'deleted user', password_hash = '!',
       phone = NULL, phone_verified_at = NULL, chat_id = NULL
WHERE user_id = CAST(:id AS uuid)
RETURNING CAST((SELECT chat_id IS NOT NULL FROM before) AS integer))sql";

constexpr const char* kDropVerification =
    "DELETE FROM phone_verifications WHERE user_id = CAST(:id AS uuid)";

constexpr const char* kListUsers = R"sql(
SELECT user_id::text, email, name, role, disabled::int,
       to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
       to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
FROM users
WHERE deleted_at IS NULL AND user_id > CAST(:after AS uuid)
  AND (:any_role <> 0 OR role = :role)
ORDER BY user_id LIMIT :n)sql";

constexpr const char* kRefreshForUpdate = R"sql(
SELECT t.family_id::text, t.user_id::text, (t.used_at IS NOT NULL)::int,
       (f.revoked_at IS NOT NULL)::int,
       (extract(epoch FROM t.expires_at) * 1000)::bigint, u.role,
       (NOT u.disabled AND u.deleted_at IS NULL)::int
FROM refresh_tokens t
JOIN refresh_families f ON f.family_id = t.family_id
JOIN users u ON u.user_id = t.user_id
WHERE t.token_hash = :hash
FOR UPDATE OF t, f)sql";

constexpr const char* kStartFamily = R"sql(
INSERT INTO refresh_families (family_id, user_id, created_at)
VALUES (CAST(:family AS uuid), CAST(:user AS uuid), CAST(:now AS timestamptz)))sql";

constexpr const char* kInsertRefresh = R"sql(
INSERT INTO refresh_tokens (token_hash, family_id, user_id, issued_at, expires_at)
VALUES (:hash, CAST(:family AS uuid), CAST(:user AS uuid), CAST(:now AS timestamptz),
        CAST(:expires AS timestamptz)))sql";

constexpr const char* kMarkRefreshUsed = R"sql(
UPDATE refresh_tokens SET used_at = CAST(:now AS timestamptz)
WHERE token_hash = :hash AND used_at IS NULL)sql";

constexpr const char* kRevokeFamily = R"sql(
UPDATE refresh_families SET revoked_at = CAST(:now AS timestamptz)
WHERE family_id = CAST(:family AS uuid) AND revoked_at IS NULL)sql";

constexpr const char* kRevokeUserFamilies = R"sql(
UPDATE refresh_families SET revoked_at = CAST(:now AS timestamptz)
WHERE user_id = CAST(:user AS uuid) AND revoked_at IS NULL)sql";

// A new request starts over: new code, new expiry, no attempts counted. (No colon in the SQL
// comments: SOCI takes every ':' outside quotes, comments included, for a placeholder.)
constexpr const char* kStoreOtp = R"sql(
INSERT INTO otp_codes (user_id, code_hash, expires_at, attempts, used_at, created_at)
VALUES (CAST(:user AS uuid), :hash, CAST(:expires AS timestamptz), 0, NULL,
        CAST(:now AS timestamptz))
ON CONFLICT (user_id) DO UPDATE
SET code_hash = EXCLUDED.code_hash, expires_at = EXCLUDED.expires_at, used_at = NULL,
    created_at = EXCLUDED.created_at,
    -- A new code keeps the failed guesses of the last quarter hour, so asking again does
    -- not buy five more guesses.
    attempts = CASE WHEN otp_codes.created_at > EXCLUDED.created_at - interval '15 minutes'
                    THEN otp_codes.attempts ELSE 0 END
-- At most one code a minute per user.
WHERE otp_codes.created_at <= EXCLUDED.created_at - interval '60 seconds'
RETURNING 1)sql";

constexpr const char* kOtpForUpdate = R"sql(
SELECT code_hash, (extract(epoch FROM expires_at) * 1000)::bigint, attempts,
       (used_at IS NOT NULL)::int
FROM otp_codes WHERE user_id = CAST(:user AS uuid) FOR UPDATE)sql";

constexpr const char* kCountOtpAttempt = R"sql(
UPDATE otp_codes SET attempts = attempts + 1 WHERE user_id = CAST(:user AS uuid))sql";

constexpr const char* kMarkOtpUsed = R"sql(
UPDATE otp_codes SET used_at = CAST(:now AS timestamptz) WHERE user_id = CAST(:user AS uuid))sql";

events::Clock::time_point from_epoch_ms(long long ms) {
  return events::Clock::time_point{std::chrono::milliseconds{ms}};
}

// `key_name` is the placeholder of `query` that `key` fills.
std::optional<User> load_user(soci::session& sql, const char* query, const char* key_name,
                              const std::string& key) {
  User u;
  int disabled = 0;
  int deleted = 0;
  sql << query, soci::use(key, key_name), soci::into(u.id), soci::into(u.email), soci::into(u.name),
      soci::into(u.role), soci::into(u.password_hash), soci::into(disabled), soci::into(deleted),
      soci::into(u.created_at), soci::into(u.updated_at);
  if (!sql.got_data()) return std::nullopt;
  u.disabled = disabled != 0;
  u.deleted = deleted != 0;
  return u;
}

}  // namespace

std::optional<User> user_by_email(soci::session& sql, const std::string& email) {
  return load_user(sql, kUserByEmail, "email", email);
}

std::string stored_email(soci::session& sql, const std::string& email) {
  std::string lower;
  sql << kLowerCase, soci::use(email, "text"), soci::into(lower);
  return lower;
}

std::optional<User> user_by_id(soci::session& sql, const std::string& id, bool for_update) {
  return load_user(sql, for_update ? kUserByIdForUpdate : kUserById, "id", id);
}

std::optional<std::string> active_role(soci::session& sql, const std::string& id) {
  const events::PreparedRows row = kActiveRole.query(sql, {&id});
  if (row.empty()) return std::nullopt;
  return row.text(0, 0);
}

bool insert_user(soci::session& sql, const User& user) {
  const int disabled = user.disabled ? 1 : 0;
  std::string inserted;
  soci::indicator ind = soci::i_null;
  sql << kInsertUser, soci::use(user.id, "id"), soci::use(user.email, "email"),
      soci::use(user.name, "name"), soci::use(user.role, "role"),
      soci::use(user.password_hash, "hash"), soci::use(disabled, "disabled"),
      soci::use(user.created_at, "created"), soci::use(user.updated_at, "updated"),
      soci::into(inserted, ind);
  return sql.got_data() && ind == soci::i_ok;
}

void update_user(soci::session& sql, const User& user) {
  const int disabled = user.disabled ? 1 : 0;
  sql << kUpdateUser, soci::use(user.email, "email"), soci::use(user.name, "name"),
      soci::use(user.role, "role"), soci::use(user.password_hash, "hash"),
      soci::use(disabled, "disabled"), soci::use(user.updated_at, "updated"),
      soci::use(user.id, "id");
}

bool soft_delete_user(soci::session& sql, const std::string& id, events::Clock::time_point now) {
  const std::string stamp = events::format_rfc3339(now);
  int had_chat = 0;
  sql << kSoftDelete, soci::use(id, "id"), soci::use(stamp, "now"), soci::use(stamp, "updated"),
      soci::into(had_chat);
  sql << kDropVerification, soci::use(id, "id");
  return had_chat != 0;
}

std::vector<User> list_users(soci::session& sql, const std::string& after, const std::string& role,
                             std::size_t limit) {
  const std::string from = after.empty() ? "00000000-0000-0000-0000-000000000000" : after;
  const int any_role = role.empty() ? 1 : 0;
  const long long n = static_cast<long long>(limit);
  std::vector<User> out;
  if (limit == 0) return out;
  std::vector<std::string> ids(limit), emails(limit), names(limit), roles(limit), created(limit),
      updated(limit);
  std::vector<int> disabled(limit);
  sql << kListUsers, soci::use(from, "after"), soci::use(any_role, "any_role"),
      soci::use(role, "role"), soci::use(n, "n"), soci::into(ids), soci::into(emails),
      soci::into(names), soci::into(roles), soci::into(disabled), soci::into(created),
      soci::into(updated);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    User u;
    u.id = std::move(ids[i]);
    u.email = std::move(emails[i]);
    u.name = std::move(names[i]);
    u.role = std::move(roles[i]);
    u.disabled = disabled[i] != 0;
    u.created_at = std::move(created[i]);
    u.updated_at = std::move(updated[i]);
    out.push_back(std::move(u));
  }
  return out;
}

RefreshVerdict judge_refresh(const RefreshToken& token, events::Clock::time_point now) {
  // Reuse is judged first: a replayed token must kill its family even when it has expired
  // or the family is already gone, so the order of these checks matters.
  if (token.used) return RefreshVerdict::kReuse;
  if (token.family_revoked || !token.user_active || now >= token.expires_at) {
    return RefreshVerdict::kRefuse;
  }
  return RefreshVerdict::kRotate;
}

std::optional<RefreshToken> refresh_for_update(soci::session& sql, const std::string& token_hash) {
  RefreshToken t;
  int used = 0;
  int revoked = 0;
  long long expires_ms = 0;
  int active = 0;
  sql << kRefreshForUpdate, soci::use(token_hash, "hash"), soci::into(t.family_id),
      soci::into(t.user_id), soci::into(used), soci::into(revoked), soci::into(expires_ms),
      soci::into(t.role), soci::into(active);
  if (!sql.got_data()) return std::nullopt;
  t.used = used != 0;
  t.family_revoked = revoked != 0;
  t.expires_at = from_epoch_ms(expires_ms);
  t.user_active = active != 0;
  return t;
}

void start_family(soci::session& sql, const std::string& family_id, const std::string& user_id,
                  events::Clock::time_point now) {
  const std::string stamp = events::format_rfc3339(now);
  sql << kStartFamily, soci::use(family_id, "family"), soci::use(user_id, "user"),
      soci::use(stamp, "now");
}

void insert_refresh(soci::session& sql, const std::string& token_hash, const std::string& family_id,
                    const std::string& user_id, events::Clock::time_point now,
                    events::Clock::time_point expires_at) {
  const std::string stamp = events::format_rfc3339(now);
  const std::string expires = events::format_rfc3339(expires_at);
  sql << kInsertRefresh, soci::use(token_hash, "hash"), soci::use(family_id, "family"),
      soci::use(user_id, "user"), soci::use(stamp, "now"), soci::use(expires, "expires");
}

void mark_refresh_used(soci::session& sql, const std::string& token_hash,
                       events::Clock::time_point now) {
  const std::string stamp = events::format_rfc3339(now);
  sql << kMarkRefreshUsed, soci::use(stamp, "now"), soci::use(token_hash, "hash");
}

void revoke_family(soci::session& sql, const std::string& family_id,
                   events::Clock::time_point now) {
  const std::string stamp = events::format_rfc3339(now);
  sql << kRevokeFamily, soci::use(stamp, "now"), soci::use(family_id, "family");
}

void revoke_user_families(soci::session& sql, const std::string& user_id,
                          events::Clock::time_point now) {
  const std::string stamp = events::format_rfc3339(now);
  sql << kRevokeUserFamilies, soci::use(stamp, "now"), soci::use(user_id, "user");
}

bool store_otp(soci::session& sql, const std::string& user_id, const std::string& code_hash,
               events::Clock::time_point expires_at, events::Clock::time_point now) {
  const std::string expires = events::format_rfc3339(expires_at);
  const std::string stamp = events::format_rfc3339(now);
  int stored = 0;
  sql << kStoreOtp, soci::use(user_id, "user"), soci::use(code_hash, "hash"),
      soci::use(expires, "expires"), soci::use(stamp, "now"), soci::into(stored);
  return sql.got_data();
}

std::optional<OtpState> otp_for_update(soci::session& sql, const std::string& user_id) {
  OtpState s;
  long long expires_ms = 0;
  int used = 0;
  sql << kOtpForUpdate, soci::use(user_id, "user"), soci::into(s.code_hash), soci::into(expires_ms),
      soci::into(s.attempts), soci::into(used);
  if (!sql.got_data()) return std::nullopt;
  s.expires_at = from_epoch_ms(expires_ms);
  s.used = used != 0;
  return s;
}

void count_otp_attempt(soci::session& sql, const std::string& user_id) {
  sql << kCountOtpAttempt, soci::use(user_id, "user");
}

void mark_otp_used(soci::session& sql, const std::string& user_id, events::Clock::time_point now) {
  const std::string stamp = events::format_rfc3339(now);
  sql << kMarkOtpUsed, soci::use(stamp, "now"), soci::use(user_id, "user");
}

void emit_registered(events::OutboxWriter& out, const events::EnvelopeFactory& factory,
                     const User& user) {
  emit(out, factory,
       contracts::identity::UserRegisteredV1{
           .user_id = user.id, .email = user.email, .name = user.name, .role = user.role});
}

void emit_one_time_code(events::OutboxWriter& out, const events::EnvelopeFactory& factory,
                        const contracts::identity::OtpRequestedV1& request) {
  events::emit(out, factory, contracts::topic::kIdentityOtp, request.user_id, request);
}

}  // namespace bazaar::edge::identity
