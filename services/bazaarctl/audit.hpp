#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "record.hpp"

namespace bazaar::ctl {

/// The names of the invariants an audit checks (DESIGN.md, "Invariants").
namespace invariant {
/// Every placed order reaches a terminal status, and its outcomes follow the saga.
inline constexpr const char* kOneOutcome = "one_outcome";
/// Every stock level has on_hand = available + reserved + sold, none of them negative.
inline constexpr const char* kStockConserved = "stock_conserved";
/// Per settled order, charged - refunded is its total when confirmed, else 0.
inline constexpr const char* kMoneyBalances = "money_balances";
/// One ce_id names one event: a repeat must carry the same type and payload.
inline constexpr const char* kUniqueEventIds = "unique_event_ids";
/// A payload the audit reads has the fields its schema requires.
inline constexpr const char* kValidPayload = "valid_payload";
}  // namespace invariant

/// One broken invariant, with the records that show it.
struct Violation {
  std::string invariant;             ///< one of `invariant::k*`
  std::string subject;               ///< the order, product or ce_id; for a payload, ce_subject
  std::string detail;                ///< what is wrong, with the numbers
  std::vector<std::string> records;  ///< Record::where() of the offending records
};

/// What an audit found.
struct AuditReport {
  std::size_t events = 0;      ///< events of known types read, repeats included
  std::size_t duplicates = 0;  ///< repeated deliveries (same ce_id, type and payload)
  std::size_t orders = 0;      ///< orders placed, or rejected at placement, in the records
  std::size_t products = 0;    ///< products whose stock level was reported
  std::size_t pending = 0;     ///< orders not yet settled but still inside the settle time
  std::map<std::string, std::size_t> checked;  ///< per invariant: how many subjects checked
  std::vector<Violation> violations;           ///< by invariant, then subject

  /// Whether no invariant was broken.
  bool ok() const { return violations.empty(); }
};

/// Checks the invariants over records streamed from the topics. It keeps a few numbers and
/// record positions per order, product and event id, never the records, so it can audit
/// millions of events; it does no I/O.
class Auditor {
 public:
  /// An order placed less than `settle_time` before the audit's `now` may still be open, and
  /// its payments may still be compensated.
  explicit Auditor(std::chrono::milliseconds settle_time);
  ~Auditor();
  Auditor(Auditor&&) noexcept;
  Auditor& operator=(Auditor&&) noexcept;

  /// Takes a record of any topic, in its partition's order. Records that are no event, events
  /// of unknown types and dead-letter copies are ignored; a repeated ce_id changes nothing,
  /// as consumers' inboxes drop it too.
  void add(const Record& r);
  /// The report as of `now`; more records may be added and the audit finished again.
  AuditReport finish(std::chrono::system_clock::time_point now) const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace bazaar::ctl
