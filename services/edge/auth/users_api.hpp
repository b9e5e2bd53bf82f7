#pragma once

#include <boost/json/object.hpp>

#include "api_context.hpp"
#include "auth/identity_store.hpp"
#include "auth/passwords.hpp"
#include "http/router.hpp"

namespace bazaar::edge {

/// GET/PATCH /users/me, PATCH /users/me/password, and the admin's GET /admin/users,
/// PATCH /admin/users/{id}, DELETE /admin/users/{id}.
void register_user_routes(Router& router, ApiContext& api, const PasswordParams& params);

/// A user on the wire, never with secrets: id, email, name, role, created_at, and for admins
/// also disabled and updated_at.
boost::json::object user_json(const identity::User& user, bool admin_view);

}  // namespace bazaar::edge
