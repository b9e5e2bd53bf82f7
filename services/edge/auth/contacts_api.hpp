#pragma once

#include <boost/json/object.hpp>
#include <optional>
#include <string>

#include "api_context.hpp"
#include "http/router.hpp"

namespace soci {
class session;
}

namespace bazaar::edge {

/// PUT /users/me/phone (a code to verify the number), POST /users/me/phone/verify (binds it),
/// PUT and DELETE /users/me/chat (the chat notifications go to; needs a verified number).
void register_contact_routes(Router& router, ApiContext& api);

/// Adds the user's contacts to their JSON: `phone` (the verified number), `phone_pending` (a
/// number waiting for its code) and `chat_id`.
void add_contacts(soci::session& sql, const std::string& user_id, boost::json::object& user);

/// The live user whose verified phone number is `phone`.
std::optional<std::string> user_by_verified_phone(soci::session& sql, const std::string& phone);

}  // namespace bazaar::edge
