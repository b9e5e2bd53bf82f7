#include "orders/admission.hpp"

#include <doctest/doctest.h>

using namespace bazaar::edge;
using namespace std::chrono_literals;

TEST_CASE("a quiet shop accepts every order") {
  const AdmissionPolicy policy;
  CHECK(admit({0, 0, 0.0}, policy).admit);
  CHECK(admit({19, 0, 0.0}, policy).admit);
}

TEST_CASE("orders are refused when the queue would outlast the allowed wait") {
  const AdmissionPolicy policy{
      .max_wait = 5000ms, .max_in_flight = 0, .always_admit = 20, .window = 10s};
  // 100 orders finished in the last 10 s: 10/s. 40 in flight wait 4 s: accepted.
  CHECK(admit({40, 100, 10.0}, policy).admit);
  // 80 in flight wait 8 s: refused, retry after the 3 s beyond the limit.
  const Admission busy = admit({80, 100, 10.0}, policy);
  CHECK_FALSE(busy.admit);
  CHECK(busy.retry_after_s == 3);
  CHECK(busy.reason.find("80 in flight") != std::string::npos);
  // The first second of a burst: 50 finished within 1 s is 50/s, not 5/s over the window.
  CHECK(admit({200, 50, 1.0}, policy).admit);
  CHECK(admit({200, 50, 0.2}, policy).admit);  // a span under a second counts as one
  // Nothing finished yet and many waiting: refused for a second, never a division by zero.
  const Admission cold = admit({500, 0, 0.0}, policy);
  CHECK_FALSE(cold.admit);
  CHECK(cold.retry_after_s == 1);
  // Retry-After stays within 1..30 s.
  CHECK(admit({1'000'000, 10, 10.0}, policy).retry_after_s == 30);
  CHECK(admit({51, 100, 10.0}, policy).retry_after_s == 1);
}

TEST_CASE("a fixed limit of orders in flight holds whatever the rate") {
  const AdmissionPolicy policy{
      .max_wait = 0ms, .max_in_flight = 5, .always_admit = 20, .window = 10s};
  CHECK(admit({4, 0, 0.0}, policy).admit);
  CHECK_FALSE(admit({5, 1000, 10.0}, policy).admit);
  CHECK(admit({5, 1000, 10.0}, policy).retry_after_s == 1);
  // With no limits at all, everything passes.
  const AdmissionPolicy none{
      .max_wait = 0ms, .max_in_flight = 0, .always_admit = 20, .window = 10s};
  CHECK(admit({1'000'000, 0, 0.0}, none).admit);
}

TEST_CASE("an admitted order that was not written stops counting until the next read") {
  const AdmissionPolicy policy{
      .max_wait = 0ms, .max_in_flight = 3, .always_admit = 20, .window = 10s};
  AdmissionLedger ledger;
  ledger.read({1, 0, 0.0});
  AdmissionTicket a;
  AdmissionTicket b;
  CHECK(ledger.admit(policy, a).admit);
  CHECK(ledger.admit(policy, b).admit);
  CHECK(ledger.load().in_flight == 3);
  // Placements refused for their lines never fill the limit.
  ledger.release(b);
  CHECK_FALSE(b.held);
  CHECK(ledger.load().in_flight == 2);
  ledger.release(b);  // twice changes nothing
  CHECK(ledger.load().in_flight == 2);
  // A transaction tried again admits its placement again: it still counts once.
  CHECK(ledger.admit(policy, a).admit);
  CHECK(ledger.load().in_flight == 2);
  AdmissionTicket c;
  CHECK(ledger.admit(policy, c).admit);
  AdmissionTicket d;
  CHECK_FALSE(ledger.admit(policy, d).admit);
  CHECK_FALSE(d.held);
  // A read counts what was written; a ticket from before it changes nothing when released.
  ledger.read({2, 0, 0.0});
  ledger.release(c);
  CHECK(ledger.load().in_flight == 2);
}
