#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>

namespace soci {
class session;
}

namespace bazaar::edge {

/// When edge stops accepting orders: a new order is refused (503 with Retry-After) when the
/// sagas already in flight would keep it waiting longer than `max_wait` at the rate orders
/// are finishing, or when `max_in_flight` (if set) are in flight. Below `always_admit` in
/// flight every order is accepted: a quiet shop has no rate to go by.
struct AdmissionPolicy {
  std::chrono::milliseconds max_wait{5000};  ///< 0: no limit by waiting time
  long long max_in_flight = 0;               ///< 0: no fixed limit
  long long always_admit = 20;
  std::chrono::seconds window{10};  ///< how far back finished orders make the rate
};

/// The pipeline as edge's order view sees it: orders placed and not yet settled (recent ones
/// only: a saga stuck for minutes is not load), and orders settled within the window with
/// the time since the first of them (so the rate is right from the first second of a burst).
struct PipelineLoad {
  long long in_flight = 0;
  long long settled_in_window = 0;
  double settled_span_s = 0;
};

struct Admission {
  bool admit = true;
  int retry_after_s = 0;  ///< when refused: when trying again makes sense
  std::string reason;     ///< when refused: why, in words for the problem's detail
};

/// The decision for one more order under `load`; pure.
Admission admit(const PipelineLoad& load, const AdmissionPolicy& policy);

/// An admitted order, counted in flight until the next read of the view counts it (or not).
struct AdmissionTicket {
  std::uint64_t read = 0;  ///< the read it was counted on top of
  bool held = false;
};

/// The load last read plus the orders admitted since; pure. An admitted placement that wrote
/// no order (refused for its lines, rolled back, or its transaction tried again) is released,
/// so that it never counts against the next one; a read since replaced the count, and releasing
/// then changes nothing.
class AdmissionLedger {
 public:
  /// The view's load, which counts every order committed so far.
  void read(const PipelineLoad& load);
  /// Counts one more order when `policy` admits it under the load.
  Admission admit(const AdmissionPolicy& policy, AdmissionTicket& ticket);
  void release(AdmissionTicket& ticket);
  const PipelineLoad& load() const { return load_; }

 private:
  PipelineLoad load_;
  std::uint64_t reads_ = 0;
};

/// Admission against the live view: the load is read from orders_view at most every 100 ms
/// (by whichever request comes first, on its own transaction's session) and counts the
/// orders admitted since, so a burst between two reads cannot overshoot.
class AdmissionControl {
 public:
  explicit AdmissionControl(AdmissionPolicy policy) : policy_(policy) {}
  /// Counts the order in `ticket`; throws Overloaded (503 with Retry-After) when it must be
  /// refused. A ticket still held is released first (a transaction tried again counts once).
  void admit_one(soci::session& sql, AdmissionTicket& ticket);
  /// The admitted order was not written: it stops counting.
  void release(AdmissionTicket& ticket);

 private:
  AdmissionPolicy policy_;
  std::mutex mutex_;
  AdmissionLedger ledger_;
  std::chrono::steady_clock::time_point read_at_{};
};

}  // namespace bazaar::edge
