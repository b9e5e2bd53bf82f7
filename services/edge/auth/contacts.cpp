#include "auth/contacts.hpp"

#include <algorithm>
#include <cctype>

namespace bazaar::edge {
namespace {

bool digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

bool valid_e164(std::string_view phone) {
  if (phone.size() < 8 || phone.size() > 16 || phone.front() != '+') return false;
  const std::string_view number = phone.substr(1);
  return digits(number) && number.front() != '0';
}

std::optional<std::string> chat_id_of(const boost::json::value& value) {
  if (value.is_int64()) return std::to_string(value.get_int64());
  if (!value.is_string()) return std::nullopt;
  const std::string_view text = value.get_string();
  if (text.starts_with('@')) {
    const std::string_view name = text.substr(1);
    const bool ok =
        name.size() >= 5 && name.size() <= 32 && std::all_of(name.begin(), name.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
        });
    return ok ? std::optional<std::string>(text) : std::nullopt;
  }
  const std::string_view number = text.starts_with('-') ? text.substr(1) : text;
  if (!digits(number) || number.size() > 19 || (number.size() > 1 && number.front() == '0')) {
    return std::nullopt;
  }
  return std::string(text);
}

std::string phone_code_subject(std::string_view user_id, std::string_view phone) {
  return std::string(user_id) + "/phone/" + std::string(phone);
}

}  // namespace bazaar::edge
