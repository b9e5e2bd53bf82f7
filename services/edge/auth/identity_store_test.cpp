#include "auth/identity_store.hpp"

#include <doctest/doctest.h>

#include "auth/auth_api.hpp"

using namespace bazaar::edge;
using bazaar::events::ManualClock;
using identity::RefreshToken;
using identity::RefreshVerdict;

namespace {

RefreshToken live(const ManualClock& clock) {
  RefreshToken t;
  t.family_id = "f";
  t.user_id = "u";
  t.expires_at = clock.now() + std::chrono::hours(24);
  t.role = "buyer";
  t.user_active = true;
  return t;
}

}  // namespace

TEST_CASE("a live unused refresh token rotates") {
  ManualClock clock;
  CHECK(identity::judge_refresh(live(clock), clock.now()) == RefreshVerdict::kRotate);
}

TEST_CASE("a used refresh token is reuse even when expired or revoked") {
  ManualClock clock;
  auto t = live(clock);
  t.used = true;
  CHECK(identity::judge_refresh(t, clock.now()) == RefreshVerdict::kReuse);
  t.family_revoked = true;
  clock.advance(std::chrono::hours(48));
  CHECK(identity::judge_refresh(t, clock.now()) == RefreshVerdict::kReuse);
}

TEST_CASE("expired revoked or disabled refresh tokens are refused") {
  ManualClock clock;
  auto expired = live(clock);
  clock.advance(std::chrono::hours(24));
  CHECK(identity::judge_refresh(expired, clock.now()) == RefreshVerdict::kRefuse);
  auto revoked = live(clock);
  revoked.family_revoked = true;
  CHECK(identity::judge_refresh(revoked, clock.now()) == RefreshVerdict::kRefuse);
  auto disabled = live(clock);
  disabled.user_active = false;
  CHECK(identity::judge_refresh(disabled, clock.now()) == RefreshVerdict::kRefuse);
}

TEST_CASE("the email rule") {
  CHECK(valid_email("ada@example.com"));
  CHECK(valid_email("a.b+c@mail.example.org"));
  CHECK_FALSE(valid_email("ada.example.com"));
  CHECK_FALSE(valid_email("ada@example"));
  CHECK_FALSE(valid_email("ada@@example.com"));
  CHECK_FALSE(valid_email("a@b@example.com"));
  CHECK_FALSE(valid_email("@example.com"));
  CHECK_FALSE(valid_email("ada@.com"));
  CHECK_FALSE(valid_email("ada@example."));
  CHECK_FALSE(valid_email("ada smith@example.com"));
  CHECK_FALSE(valid_email(std::string(320, 'a') + "@example.com"));
  CHECK(lower_ascii("Ada@Example.COM") == "ada@example.com");
}
