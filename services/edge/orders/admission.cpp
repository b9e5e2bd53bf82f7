#include "orders/admission.hpp"

#include <soci/soci.h>

#include <algorithm>
#include <cmath>

#include "http/problem.hpp"

namespace bazaar::edge {
namespace {

// Sagas in flight: statuses before an outcome, placed in the last two minutes (every saga
// deadline is far shorter; an older one is stuck, not load). An order waiting for its buyer to
// pay (a payment window is known) waits on a person, not on the pipeline.
constexpr const char* kLoad = R"sql(
SELECT (SELECT CAST(count(*) AS bigint) FROM orders_view
        WHERE status IN ('PLACED', 'AWAITING_STOCK', 'AWAITING_PAYMENT', 'COMPENSATING')
          AND created_at > now() - interval '2 minutes'
          AND NOT (status = 'AWAITING_PAYMENT' AND payment_due_at IS NOT NULL)),
       CAST(count(*) AS bigint),
       COALESCE(CAST(extract(epoch FROM now() - min(settled_at)) AS double precision), 0)
FROM orders_view WHERE settled_at > now() - make_interval(secs => :window))sql";

constexpr auto kRefresh = std::chrono::milliseconds{100};

}  // namespace

Admission admit(const PipelineLoad& load, const AdmissionPolicy& policy) {
  if (policy.max_in_flight > 0 && load.in_flight >= policy.max_in_flight) {
    return {false, 1,
            "orders in flight reached the limit of " + std::to_string(policy.max_in_flight)};
  }
  if (policy.max_wait.count() <= 0 || load.in_flight < policy.always_admit) return {};
  if (load.settled_in_window == 0) {
    // Busy and nothing finished yet: no rate to go by, so ask again in a second.
    return {false, 1,
            "orders are arriving faster than they can be completed (" +
                std::to_string(load.in_flight) + " in flight)"};
  }
  // The rate over the span the finished orders cover (at least a second), so the first
  // completions of a burst count at their real pace, not spread over the whole window.
  const double span_s =
      std::clamp(load.settled_span_s, 1.0, static_cast<double>(policy.window.count()));
  const double rate = static_cast<double>(load.settled_in_window) / span_s;
  const double wait_s = static_cast<double>(load.in_flight) / rate;
  const double max_s = static_cast<double>(policy.max_wait.count()) / 1000.0;
  if (wait_s <= max_s) return {};
  const int retry = static_cast<int>(std::clamp(std::ceil(wait_s - max_s), 1.0, 30.0));
  return {false, retry,
          "orders are arriving faster than they can be completed (" +
              std::to_string(load.in_flight) + " in flight)"};
}

void AdmissionLedger::read(const PipelineLoad& load) {
  load_ = load;
  ++reads_;
}

Admission AdmissionLedger::admit(const AdmissionPolicy& policy, AdmissionTicket& ticket) {
  release(ticket);
  Admission decision = bazaar::edge::admit(load_, policy);
  if (decision.admit) {
    ++load_.in_flight;
    ticket = {reads_, true};
  }
  return decision;
}

void AdmissionLedger::release(AdmissionTicket& ticket) {
  if (ticket.held && ticket.read == reads_ && load_.in_flight > 0) --load_.in_flight;
  ticket.held = false;
}

void AdmissionControl::admit_one(soci::session& sql, AdmissionTicket& ticket) {
  if (policy_.max_wait.count() <= 0 && policy_.max_in_flight <= 0) return;
  const std::lock_guard lock(mutex_);
  const auto now = std::chrono::steady_clock::now();
  if (now - read_at_ >= kRefresh) {
    long long window = policy_.window.count();
    PipelineLoad load;
    sql << kLoad, soci::use(window, "window"), soci::into(load.in_flight),
        soci::into(load.settled_in_window), soci::into(load.settled_span_s);
    ledger_.read(load);
    read_at_ = now;
  }
  const Admission decision = ledger_.admit(policy_, ticket);
  if (!decision.admit) throw Overloaded(decision.reason, decision.retry_after_s);
}

void AdmissionControl::release(AdmissionTicket& ticket) {
  if (!ticket.held) return;
  const std::lock_guard lock(mutex_);
  ledger_.release(ticket);
}

}  // namespace bazaar::edge
