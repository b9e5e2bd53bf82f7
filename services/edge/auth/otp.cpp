#include "auth/otp.hpp"

#include <cstdio>

#include "auth/auth_crypto.hpp"

namespace bazaar::edge {

std::string generate_otp_code() {
  char text[8];
  std::snprintf(text, sizeof text, "%06u", static_cast<unsigned>(random_below(1'000'000)));
  return text;
}

std::string hash_otp_code(std::string_view user_id, std::string_view code) {
  // Bound to the user so one table row cannot be replayed for another account.
  std::string input = "bazaar-otp:";
  input.append(user_id);
  input.push_back(':');
  input.append(code);
  return sha256_hex(input);
}

OtpVerdict check_otp(const OtpState& state, std::string_view user_id, std::string_view code,
                     events::Clock::time_point now) {
  if (state.used) return OtpVerdict::kUsed;
  if (state.attempts >= kOtpMaxAttempts) return OtpVerdict::kTooManyAttempts;
  if (now >= state.expires_at) return OtpVerdict::kExpired;
  const bool digits =
      code.size() == 6 && code.find_first_not_of("0123456789") == std::string_view::npos;
  if (!digits || !equal_constant_time(hash_otp_code(user_id, code), state.code_hash)) {
    return OtpVerdict::kWrong;
  }
  return OtpVerdict::kAccepted;
}

}  // namespace bazaar::edge
