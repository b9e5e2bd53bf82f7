#include "auth/otp.hpp"

#include <doctest/doctest.h>

#include <set>

#include "auth/auth_crypto.hpp"

using namespace bazaar::edge;
using bazaar::events::ManualClock;

namespace {

const std::string kUser = "0190f5c2-7a1b-7c3d-8e4f-123456789abc";

OtpState state_for(const std::string& code, const ManualClock& clock) {
  return OtpState{hash_otp_code(kUser, code), clock.now() + kOtpTtl, 0, false};
}

}  // namespace

TEST_CASE("codes are six digits and vary") {
  std::set<std::string> seen;
  for (int i = 0; i < 50; ++i) {
    const std::string code = generate_otp_code();
    CHECK(code.size() == 6);
    CHECK(code.find_first_not_of("0123456789") == std::string::npos);
    seen.insert(code);
  }
  CHECK(seen.size() > 40);
}

TEST_CASE("the stored hash is bound to the user and is not the code") {
  const auto h = hash_otp_code(kUser, "123456");
  CHECK(h.size() == 64);
  CHECK(h.find("123456") == std::string::npos);
  CHECK(h != hash_otp_code("0190f5c2-7a1b-7c3d-8e4f-000000000000", "123456"));
}

TEST_CASE("the right code within five minutes is accepted") {
  ManualClock clock;
  const auto s = state_for("042917", clock);
  clock.advance(std::chrono::minutes(4));
  CHECK(check_otp(s, kUser, "042917", clock.now()) == OtpVerdict::kAccepted);
}

TEST_CASE("a wrong code is refused") {
  ManualClock clock;
  const auto s = state_for("042917", clock);
  CHECK(check_otp(s, kUser, "042918", clock.now()) == OtpVerdict::kWrong);
  CHECK(check_otp(s, kUser, "42917", clock.now()) == OtpVerdict::kWrong);
  CHECK(check_otp(s, kUser, "04291a", clock.now()) == OtpVerdict::kWrong);
  CHECK(check_otp(s, "0190f5c2-7a1b-7c3d-8e4f-000000000000", "042917", clock.now()) ==
        OtpVerdict::kWrong);
}

TEST_CASE("an expired code is refused") {
  ManualClock clock;
  const auto s = state_for("042917", clock);
  clock.advance(kOtpTtl);
  CHECK(check_otp(s, kUser, "042917", clock.now()) == OtpVerdict::kExpired);
}

TEST_CASE("a used code is refused") {
  ManualClock clock;
  auto s = state_for("042917", clock);
  s.used = true;
  CHECK(check_otp(s, kUser, "042917", clock.now()) == OtpVerdict::kUsed);
}

TEST_CASE("after five wrong guesses even the right code is refused") {
  ManualClock clock;
  auto s = state_for("042917", clock);
  s.attempts = kOtpMaxAttempts - 1;
  CHECK(check_otp(s, kUser, "042917", clock.now()) == OtpVerdict::kAccepted);
  s.attempts = kOtpMaxAttempts;
  CHECK(check_otp(s, kUser, "042917", clock.now()) == OtpVerdict::kTooManyAttempts);
}

TEST_CASE("base64url round trips without padding") {
  const std::string bytes = random_bytes(32);
  const std::string text = base64url_encode(bytes);
  CHECK(text.size() == 43);
  CHECK(text.find_first_of("+/=") == std::string::npos);
  CHECK(base64url_decode(text) == bytes);
  CHECK_FALSE(base64url_decode("not base64!").has_value());
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}
