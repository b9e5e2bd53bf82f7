#include "sandbox_provider.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <thread>
#include <vector>

using namespace bazaar::payment;

namespace {
const std::string kOrder = "00000000-0000-7000-8000-000000000001";
const std::string kOther = "00000000-0000-7000-8000-000000000002";

ChargeOutcome charge(SandboxProvider& p, const std::string& order, const std::string& token) {
  return p.charge(order, 1250, "EUR", token);
}
}  // namespace

TEST_CASE("tok_ok approves and charges the order once") {
  SandboxProvider p;
  CHECK(charge(p, kOrder, "tok_ok").result == ChargeResult::approved);
  CHECK(p.charged_orders() == 1);
}

TEST_CASE("tok_decline declines for insufficient funds") {
  SandboxProvider p;
  const auto out = charge(p, kOrder, "tok_decline");
  CHECK(out.result == ChargeResult::declined);
  CHECK(out.reason == "insufficient_funds");
  CHECK(p.charged_orders() == 0);
}

TEST_CASE("tok_timeout never answers") {
  SandboxProvider p;
  CHECK(charge(p, kOrder, "tok_timeout").result == ChargeResult::no_answer);
  CHECK(charge(p, kOrder, "tok_timeout").result == ChargeResult::no_answer);
  CHECK(p.charged_orders() == 0);
}

TEST_CASE("tok_flaky fails transiently on the first attempt of each order and then approves") {
  SandboxProvider p;
  CHECK(charge(p, kOrder, "tok_flaky").result == ChargeResult::transient_failure);
  CHECK(charge(p, kOther, "tok_flaky").result == ChargeResult::transient_failure);
  CHECK(charge(p, kOrder, "tok_flaky").result == ChargeResult::approved);
  CHECK(charge(p, kOther, "tok_flaky").result == ChargeResult::approved);
  CHECK(p.attempts(kOrder) == 2);
  CHECK(p.charged_orders() == 2);
}

TEST_CASE("any other token declines as invalid") {
  SandboxProvider p;
  for (const char* token : {"tok_unknown", "", "TOK_OK", "tok_ok "}) {
    const auto out = charge(p, kOrder, token);
    CHECK(out.result == ChargeResult::declined);
    CHECK(out.reason == "invalid_token");
  }
}

TEST_CASE("asking again for an approved order approves without a second charge") {
  SandboxProvider p;
  CHECK(charge(p, kOrder, "tok_ok").result == ChargeResult::approved);
  CHECK(charge(p, kOrder, "tok_ok").result == ChargeResult::approved);
  CHECK(charge(p, kOrder, "tok_decline").result == ChargeResult::approved);
  CHECK(p.charged_orders() == 1);
  CHECK(p.attempts(kOrder) == 3);
}

TEST_CASE("concurrent flaky charges of one order take the money once") {
  SandboxProvider p;
  std::atomic<int> approved{0};
  std::atomic<int> transient{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < 50; ++j) {
        const auto r = charge(p, kOrder, "tok_flaky").result;
        if (r == ChargeResult::approved) ++approved;
        if (r == ChargeResult::transient_failure) ++transient;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(transient.load() == 1);
  CHECK(approved.load() == 399);
  CHECK(p.attempts(kOrder) == 400);
  CHECK(p.charged_orders() == 1);
}
