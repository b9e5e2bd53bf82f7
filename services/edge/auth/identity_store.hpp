#pragma once

#include <boost/json/object.hpp>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "auth/otp.hpp"
#include "contracts/contracts.hpp"
#include "events/clock.hpp"
#include "events/handler.hpp"

namespace soci {
class session;
}

namespace bazaar::events {
class EnvelopeFactory;
class OutboxWriter;
}  // namespace bazaar::events

namespace bazaar::edge::identity {

/// A row of `users`; times are RFC 3339.
struct User {
  std::string id;
  std::string email;  ///< lower-cased
  std::string name;
  std::string role;
  std::string password_hash;
  bool disabled = false;
  bool deleted = false;
  std::string created_at;
  std::string updated_at;
};

/// The user with this email, in any case.
std::optional<User> user_by_email(soci::session& sql, const std::string& email);
/// An email as it is stored: lower-cased by the database's rules, non-ASCII letters included.
std::string stored_email(soci::session& sql, const std::string& email);
/// A user by id; `for_update` locks the row for the rest of the transaction.
std::optional<User> user_by_id(soci::session& sql, const std::string& id, bool for_update = false);
/// The role of a user who exists, is not deleted and not disabled: what a request may act as.
std::optional<std::string> active_role(soci::session& sql, const std::string& id);
/// Inserts a user; false (and nothing written) when the email is taken.
bool insert_user(soci::session& sql, const User& user);
/// Writes email, name, role, password hash, disabled and updated_at of an existing user.
void update_user(soci::session& sql, const User& user);
/// Marks a user deleted at `now`: disabled, email and name scrubbed, password unusable, phone
/// number and chat gone. Returns whether a chat was bound (the notification service must hear
/// that it is not any more); right only when the caller holds the row's lock (user_by_id with
/// `for_update`), so that no binding commits between the statement's read and its write.
bool soft_delete_user(soci::session& sql, const std::string& id, events::Clock::time_point now);
/// Up to `limit` live users with ids after `after` (empty: from the start), of `role`
/// (empty: any), in id order, which is creation order for UUIDv7 ids.
std::vector<User> list_users(soci::session& sql, const std::string& after, const std::string& role,
                             std::size_t limit);

/// A presented refresh token with its family and owner, locked for rotation.
struct RefreshToken {
  std::string family_id;
  std::string user_id;
  bool used = false;
  bool family_revoked = false;
  events::Clock::time_point expires_at;
  std::string role;
  bool user_active = false;  ///< exists, not disabled, not deleted
};

/// What to do with a presented refresh token.
enum class RefreshVerdict {
  kRotate,  ///< valid: mark used, issue the next token of the family
  kReuse,   ///< already used: someone replays it, revoke the whole family
  kRefuse,  ///< expired, revoked or of a disabled user
};
/// Pure decision, table-tested without a database.
RefreshVerdict judge_refresh(const RefreshToken& token, events::Clock::time_point now);

/// The token with this SHA-256 hex hash, its family row locked; nullopt when unknown.
std::optional<RefreshToken> refresh_for_update(soci::session& sql, const std::string& token_hash);
void start_family(soci::session& sql, const std::string& family_id, const std::string& user_id,
                  events::Clock::time_point now);
void insert_refresh(soci::session& sql, const std::string& token_hash, const std::string& family_id,
                    const std::string& user_id, events::Clock::time_point now,
                    events::Clock::time_point expires_at);
void mark_refresh_used(soci::session& sql, const std::string& token_hash,
                       events::Clock::time_point now);
void revoke_family(soci::session& sql, const std::string& family_id, events::Clock::time_point now);
/// Revokes every live family of a user (password change, disable, delete).
void revoke_user_families(soci::session& sql, const std::string& user_id,
                          events::Clock::time_point now);

/// Replaces the user's one-time code with a new one; false (nothing stored) when the last
/// code is less than a minute old. Failed guesses of the last 15 minutes carry over.
bool store_otp(soci::session& sql, const std::string& user_id, const std::string& code_hash,
               events::Clock::time_point expires_at, events::Clock::time_point now);
/// The user's latest code, locked; nullopt when none was requested.
std::optional<OtpState> otp_for_update(soci::session& sql, const std::string& user_id);
void count_otp_attempt(soci::session& sql, const std::string& user_id);
void mark_otp_used(soci::session& sql, const std::string& user_id, events::Clock::time_point now);

/// Adds an identity event (UserRegistered, UserRoleChanged, UserDisabled) to the outbox of the
/// open transaction, keyed by its user.
template <typename Payload>
void emit(events::OutboxWriter& out, const events::EnvelopeFactory& factory, const Payload& e) {
  events::emit(out, factory, contracts::topic::kIdentityEvents, e.user_id, e);
}
/// Announces a new user on identity.events.
void emit_registered(events::OutboxWriter& out, const events::EnvelopeFactory& factory,
                     const User& user);
/// Writes an OtpRequested for the notification service to the outbox, on identity.otp: codes
/// travel on their own short-lived topic.
void emit_one_time_code(events::OutboxWriter& out, const events::EnvelopeFactory& factory,
                        const contracts::identity::OtpRequestedV1& request);

}  // namespace bazaar::edge::identity
