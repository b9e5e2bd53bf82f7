#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "record.hpp"
#include "saga.hpp"

namespace bazaar::ctl {

/// The saga's decision function, swappable so a changed rule can be tried on history.
using Decide = std::function<order::Decision(const std::optional<order::Saga>&, order::Input,
                                             std::string_view, int)>;

/// One input of one order where the saga under test would do something else than was recorded.
struct WhatIfDiff {
  std::string order_id;
  std::string input;                  ///< the input's type, or `deadline`
  std::string at;                     ///< where() of the input (or of the recorded deadline step)
  std::vector<std::string> recorded;  ///< types the order service emitted then
  std::vector<std::string> would;     ///< types this build would emit
};

/// What a what-if run found.
struct WhatIfReport {
  std::size_t orders = 0;
  std::size_t inputs = 0;
  std::vector<WhatIfDiff> diffs;
  bool identical() const { return diffs.empty(); }
};

/// Runs `decide` over the recorded inputs of each order (its placement as recorded, then
/// order.commands, inventory.events and payment.events in time order, and the deadlines the
/// scanner took) and compares what it would emit, input by input, with what the order service
/// emitted for that input (matched by causation). `records` are every record of those topics
/// and of order.events, inventory.commands and payment.commands; `only_order` narrows it.
WhatIfReport what_if(const std::vector<Record>& records, const Decide& decide,
                     const std::optional<std::string>& only_order = std::nullopt);

}  // namespace bazaar::ctl
