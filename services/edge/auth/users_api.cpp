#include "auth/users_api.hpp"

#include <soci/soci.h>

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>
#include <memory>

#include "auth/contacts_api.hpp"
#include "events/outbox.hpp"
#include "events/uuid.hpp"
#include "http/cursor.hpp"
#include "http/request_body.hpp"

namespace bazaar::edge {
namespace {

constexpr const char* kUsersSort = "users";
constexpr std::size_t kMaxSecretBytes = 1024;

struct UserDeps {
  ApiContext& api;
  PasswordParams params;
};

HttpResponse no_content() {
  HttpResponse r;
  r.status = 204;
  r.content_type.clear();
  return r;
}

HttpResponse not_found() {
  return problem(404, "Not Found", "no such user");
}

bool known_role(const std::string& role) {
  return role == "buyer" || role == "seller" || role == "admin";
}

HttpResponse get_me(const UserDeps& d, const RequestContext& c) {
  std::optional<identity::User> me;
  boost::json::object contacts;
  d.api.db.read([&](soci::session& sql) {
    me = identity::user_by_id(sql, c.principal->user_id);
    if (me) add_contacts(sql, me->id, contacts);
  });
  if (!me || me->deleted) return not_found();
  boost::json::object body = user_json(*me, false);
  for (const auto& [key, value] : contacts) body[key] = value;
  return json_response(200, boost::json::serialize(body));
}

HttpResponse patch_me(const UserDeps& d, const RequestContext& c) {
  auto body = parse_json_body(c.request);
  if (body.error) return *body.error;
  FieldCheck check(body.object);
  const auto name = check.optional_string("name", 1, 200);
  if (!check.ok()) return check.problem();
  std::optional<identity::User> me;
  d.api.db.transact([&](soci::session& sql, events::OutboxWriter&) {
    me = identity::user_by_id(sql, c.principal->user_id, true);
    if (!me || me->deleted || !name) return;
    me->name = *name;
    me->updated_at = events::format_rfc3339(d.api.clock.now());
    identity::update_user(sql, *me);
  });
  if (!me || me->deleted) return not_found();
  return json_response(200, boost::json::serialize(user_json(*me, false)));
}

HttpResponse change_password(const UserDeps& d, const RequestContext& c) {
  auto body = parse_json_body(c.request);
  if (body.error) return *body.error;
  FieldCheck check(body.object);
  const std::string current = check.required_string("current_password", 1, kMaxSecretBytes);
  std::string next;
  if (const auto* v = body.object.if_contains("new_password"); v == nullptr) {
    check.fail("new_password", "is required");
  } else if (!v->is_string()) {
    check.fail("new_password", "must be a string");
  } else if (!acceptable_password(v->get_string())) {
    check.fail("new_password", "must be " + std::to_string(kMinPasswordChars) + " to " +
                                   std::to_string(kMaxPasswordChars) + " characters");
  } else {
    next = std::string(v->get_string());
  }
  if (!check.ok()) return check.problem();

  std::optional<identity::User> me;
  d.api.db.read([&](soci::session& sql) { me = identity::user_by_id(sql, c.principal->user_id); });
  if (!me || me->deleted) return not_found();
  if (!verify_password(current, me->password_hash)) {
    return problem(401, "Unauthorized", "the current password is wrong");
  }
  // Hashed outside the transaction: argon2 takes ~200 ms and must not hold a row lock.
  const std::string hash = hash_password(next, d.params);
  d.api.db.transact([&](soci::session& sql, events::OutboxWriter&) {
    auto locked = identity::user_by_id(sql, c.principal->user_id, true);
    if (!locked) return;
    const auto now = d.api.clock.now();
    locked->password_hash = hash;
    locked->updated_at = events::format_rfc3339(now);
    identity::update_user(sql, *locked);
    // Every other sign-in of this account ends with the old password.
    identity::revoke_user_families(sql, locked->id, now);
  });
  return no_content();
}

HttpResponse list_users(const UserDeps& d, const RequestContext& c) {
  std::vector<FieldError> errors;
  const auto limit = parse_limit(c.request.param("limit"));
  if (!limit) errors.push_back({"limit", "must be an integer from 1 to 100"});
  std::string role = c.request.param("role").value_or("");
  if (!role.empty() && !known_role(role)) {
    errors.push_back({"role", "must be admin, seller or buyer"});
  }
  const std::string scope = cursor_scope(kUsersSort, {role});
  std::string after;
  if (const auto text = c.request.param("cursor"); text && !text->empty()) {
    const auto cursor = decode_cursor(*text, scope);
    if (!cursor || cursor->sort != kUsersSort) {
      errors.push_back({"cursor", "is not a cursor of this list"});
    } else {
      after = cursor->id;
    }
  }
  if (!errors.empty()) {
    return problem(422, "Unprocessable Content", "invalid query parameters", std::move(errors));
  }
  const auto page = static_cast<std::size_t>(*limit);
  std::vector<identity::User> users;
  // One extra row tells whether there is a next page.
  d.api.db.read(
      [&](soci::session& sql) { users = identity::list_users(sql, after, role, page + 1); });
  boost::json::value next = nullptr;
  if (users.size() > page) {
    users.resize(page);
    next = encode_cursor(Cursor{kUsersSort, users.back().id, users.back().id}, scope);
  }
  boost::json::array items;
  for (const auto& u : users) items.push_back(user_json(u, true));
  const boost::json::object body{{"items", std::move(items)}, {"next_cursor", std::move(next)}};
  return json_response(200, boost::json::serialize(body));
}

// The id of a path, canonical, or nullopt (then the user cannot exist: 404).
std::optional<std::string> path_id(const RequestContext& c) {
  const auto it = c.params.find("id");
  if (it == c.params.end()) return std::nullopt;
  const auto id = events::Uuid::parse(it->second);
  if (!id) return std::nullopt;
  return id->str();
}

HttpResponse admin_patch(const UserDeps& d, const RequestContext& c) {
  const auto id = path_id(c);
  if (!id) return not_found();
  auto body = parse_json_body(c.request);
  if (body.error) return *body.error;
  FieldCheck check(body.object);
  const auto role = check.optional_string("role", 1, 20);
  if (role && !known_role(*role)) check.fail("role", "must be admin, seller or buyer");
  std::optional<bool> disabled;
  if (const auto* v = body.object.if_contains("disabled")) {
    if (v->is_bool()) {
      disabled = v->get_bool();
    } else {
      check.fail("disabled", "must be true or false");
    }
  }
  if (!check.ok()) return check.problem();
  // An admin who demotes or disables themself could leave the shop with no admin at all.
  if (*id == c.principal->user_id && ((role && *role != "admin") || disabled.value_or(false))) {
    return problem(409, "Conflict", "an admin cannot demote or disable themself");
  }
  std::optional<identity::User> user;
  d.api.db.transact([&](soci::session& sql, events::OutboxWriter& out) {
    user = identity::user_by_id(sql, *id, true);
    if (!user || user->deleted) return;
    const auto now = d.api.clock.now();
    const std::string previous_role = user->role;
    const bool was_disabled = user->disabled;
    if (role) user->role = *role;
    if (disabled) user->disabled = *disabled;
    if (user->role == previous_role && user->disabled == was_disabled) return;
    user->updated_at = events::format_rfc3339(now);
    identity::update_user(sql, *user);
    if (user->role != previous_role) {
      identity::emit(out, d.api.factory,
                     contracts::identity::UserRoleChangedV1{
                         .user_id = user->id, .role = user->role, .previous_role = previous_role});
    }
    if (user->disabled != was_disabled) {
      identity::emit(
          out, d.api.factory,
          contracts::identity::UserDisabledV1{.user_id = user->id, .disabled = user->disabled});
      if (user->disabled) identity::revoke_user_families(sql, user->id, now);
    }
  });
  // Committed: the role or the block applies to the account's next request, on this edge at
  // once, on the others once the change's notification reached them.
  if (d.api.role_cache != nullptr) d.api.role_cache->forget(*id);
  if (!user || user->deleted) return not_found();
  return json_response(200, boost::json::serialize(user_json(*user, true)));
}

HttpResponse admin_delete(const UserDeps& d, const RequestContext& c) {
  const auto id = path_id(c);
  if (!id) return not_found();
  if (*id == c.principal->user_id) {
    return problem(409, "Conflict", "an admin cannot delete themself");
  }
  bool found = false;
  d.api.db.transact([&](soci::session& sql, events::OutboxWriter& out) {
    const auto user = identity::user_by_id(sql, *id, true);
    found = user && !user->deleted;
    if (!found) return;
    const auto now = d.api.clock.now();
    const bool had_chat = identity::soft_delete_user(sql, *id, now);
    identity::revoke_user_families(sql, *id, now);
    if (had_chat) {
      identity::emit(out, d.api.factory,
                     contracts::identity::UserChatBoundV1{.user_id = *id, .chat_id = std::nullopt});
    }
    identity::emit(out, d.api.factory,
                   contracts::identity::UserDisabledV1{.user_id = *id, .disabled = true});
  });
  if (d.api.role_cache != nullptr) d.api.role_cache->forget(*id);
  if (!found) return not_found();
  return no_content();
}

}  // namespace

boost::json::object user_json(const identity::User& user, bool admin_view) {
  boost::json::object o{{"id", user.id},
                        {"email", user.email},
                        {"name", user.name},
                        {"role", user.role},
                        {"created_at", user.created_at}};
  if (admin_view) {
    o["disabled"] = user.disabled;
    o["updated_at"] = user.updated_at;
  }
  return o;
}

void register_user_routes(Router& router, ApiContext& api, const PasswordParams& params) {
  const auto d = std::make_shared<const UserDeps>(UserDeps{api, params});
  router.add("GET", "/users/me", Access::kSignedIn,
             [d](const RequestContext& c) { return get_me(*d, c); });
  router.add("PATCH", "/users/me", Access::kSignedIn,
             [d](const RequestContext& c) { return patch_me(*d, c); });
  router.add("PATCH", "/users/me/password", Access::kSignedIn,
             [d](const RequestContext& c) { return change_password(*d, c); });
  router.add("GET", "/admin/users", Access::kAdmin,
             [d](const RequestContext& c) { return list_users(*d, c); });
  router.add("PATCH", "/admin/users/{id}", Access::kAdmin,
             [d](const RequestContext& c) { return admin_patch(*d, c); });
  router.add("DELETE", "/admin/users/{id}", Access::kAdmin,
             [d](const RequestContext& c) { return admin_delete(*d, c); });
}

}  // namespace bazaar::edge
