#pragma once

#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace bazaar::edge {

/// An E.164 phone number: `+`, a country code not starting with 0, 7 to 15 digits in all.
bool valid_e164(std::string_view phone);

/// A chat notifications can go to, as the Bot API names one: a numeric chat id (an integer,
/// negative for groups, given as a JSON integer or a string of digits) or a channel's
/// `@username` (5 to 32 letters, digits or `_`). Its text, or nullopt for anything else.
std::optional<std::string> chat_id_of(const boost::json::value& value);

/// What a phone verification code's hash binds: the user and the number, so a code sent for
/// one number never verifies another.
std::string phone_code_subject(std::string_view user_id, std::string_view phone);

}  // namespace bazaar::edge
