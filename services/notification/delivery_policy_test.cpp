#include "delivery_policy.hpp"

#include <doctest/doctest.h>

#include <vector>

namespace bazaar::notification {

using std::chrono::milliseconds;

TEST_CASE("delivery steps table") {
  const DeliveryPolicy policy;  // 8 attempts, 500 ms doubling up to 30 s
  struct Row {
    const char* name;
    int attempts_before;
    bool succeeded;
    DeliveryStatus status;
    int attempts;
    milliseconds retry_in;
  };
  const std::vector<Row> rows = {
      {"first try succeeds", 0, true, DeliveryStatus::delivered, 1, milliseconds{0}},
      {"success after failures", 5, true, DeliveryStatus::delivered, 6, milliseconds{0}},
      {"first failure waits the initial delay", 0, false, DeliveryStatus::pending, 1,
       milliseconds{500}},
      {"second failure doubles", 1, false, DeliveryStatus::pending, 2, milliseconds{1000}},
      {"third failure doubles again", 2, false, DeliveryStatus::pending, 3, milliseconds{2000}},
      {"seventh failure is still retried", 6, false, DeliveryStatus::pending, 7,
       milliseconds{30'000}},
      {"eighth failure gives up", 7, false, DeliveryStatus::failed, 8, milliseconds{0}},
      {"past the limit stays failed", 9, false, DeliveryStatus::failed, 10, milliseconds{0}},
  };
  for (const auto& row : rows) {
    CAPTURE(row.name);
    const auto step = after_attempt(policy, row.attempts_before, row.succeeded);
    CHECK(step.status == row.status);
    CHECK(step.attempts == row.attempts);
    CHECK(step.retry_in == row.retry_in);
  }
}

TEST_CASE("the retry delay is capped at the maximum") {
  DeliveryPolicy policy;
  policy.max_attempts = 100;
  CHECK(after_attempt(policy, 6, false).retry_in == milliseconds{30'000});
  CHECK(after_attempt(policy, 50, false).retry_in == milliseconds{30'000});
  CHECK(after_attempt(policy, 5, false).retry_in == milliseconds{16'000});
}

TEST_CASE("jitter only shortens the delay") {
  const DeliveryPolicy policy;
  const auto most = after_attempt(policy, 0, false, [] { return 0.999; });
  CHECK(most.retry_in <= milliseconds{500});
  CHECK(most.retry_in >= milliseconds{400});
}

TEST_CASE("a single allowed attempt fails at once") {
  DeliveryPolicy policy;
  policy.max_attempts = 1;
  CHECK(after_attempt(policy, 0, false).status == DeliveryStatus::failed);
}

TEST_CASE("only 2xx statuses are accepted") {
  CHECK(accepted(200));
  CHECK(accepted(204));
  CHECK(accepted(299));
  CHECK_FALSE(accepted(0));
  CHECK_FALSE(accepted(199));
  CHECK_FALSE(accepted(301));
  CHECK_FALSE(accepted(404));
  CHECK_FALSE(accepted(500));
}

TEST_CASE("the claim lease outlasts a batch of timed out requests") {
  CHECK(claim_lease(milliseconds{3000}, 16) > milliseconds{3000} * 16);
  CHECK(claim_lease(milliseconds{100}, 0) > milliseconds{100});
  CHECK(to_string(DeliveryStatus::failed) == "FAILED");
}

}  // namespace bazaar::notification

namespace bazaar::notification {

TEST_CASE("a 429 waits at least as long as the receiver asked") {
  CHECK(retry_after_of(429, R"({"ok":false,"error_code":429,"parameters":{"retry_after":7}})",
                       "") == std::chrono::seconds{7});
  CHECK(retry_after_of(429, "slow down", "3") == std::chrono::seconds{3});
  CHECK(retry_after_of(429, R"({"parameters":{"retry_after":99999}})", "") ==
        std::chrono::seconds{3600});
  CHECK(retry_after_of(429, R"({"parameters":{"retry_after":"soon"}})", "x") ==
        std::chrono::seconds{0});
  CHECK(retry_after_of(500, R"({"parameters":{"retry_after":7}})", "5") == std::chrono::seconds{0});
  const DeliveryPolicy policy;
  const auto step = after_attempt(policy, 0, false, nullptr, std::chrono::seconds{7});
  CHECK(step.status == DeliveryStatus::pending);
  CHECK(step.retry_in == std::chrono::seconds{7});
  // A longer backoff still wins over a shorter retry_after.
  CHECK(after_attempt(policy, 5, false, nullptr, std::chrono::seconds{1}).retry_in >
        std::chrono::seconds{1});
}

TEST_CASE("a refusal that repeating cannot fix fails the delivery at once") {
  const DeliveryPolicy policy;
  CHECK(after_attempt(policy, 0, false, nullptr, {}, true).status == DeliveryStatus::failed);
  CHECK(permanent_chat_failure(403));
  CHECK(permanent_chat_failure(400));
  CHECK_FALSE(permanent_chat_failure(429));
  CHECK_FALSE(permanent_chat_failure(502));
}

}  // namespace bazaar::notification
