#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "events/clock.hpp"

namespace bazaar::edge {

/// How long a one-time code is valid, and how many guesses it survives.
inline constexpr std::chrono::minutes kOtpTtl{5};
inline constexpr int kOtpMaxAttempts = 5;

/// A fresh 6-digit code, zero-padded, drawn uniformly from the CSPRNG.
std::string generate_otp_code();

/// What is stored of a code: its hash bound to the user, never the code itself.
std::string hash_otp_code(std::string_view user_id, std::string_view code);

/// The stored state of a user's latest code.
struct OtpState {
  std::string code_hash;
  events::Clock::time_point expires_at;
  int attempts = 0;  ///< wrong guesses so far
  bool used = false;
};

/// The outcome of presenting a code.
enum class OtpVerdict { kAccepted, kWrong, kExpired, kUsed, kTooManyAttempts };

/// Judges `code` against `state` at `now`. A wrong guess must be counted by the caller
/// (attempts + 1) even though this answers kWrong, so guesses stay capped.
OtpVerdict check_otp(const OtpState& state, std::string_view user_id, std::string_view code,
                     events::Clock::time_point now);

}  // namespace bazaar::edge
