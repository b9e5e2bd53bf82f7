#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>

#include "events/processor.hpp"

namespace bazaar::tests {

/// The test service's decision: record each Probe event in `probe_applied`; a Probe with
/// `"fail":"permanent"` can never be applied; one with `"fail":"transient_briefly"` fails
/// transiently for half a second after this handler first sees it; one with `"fail":"bug"`
/// can never be applied while `bug_present` holds (a handler bug, until it is fixed).
class ProbeHandler final : public events::Handler {
 public:
  explicit ProbeHandler(std::string consumer) : consumer_(std::move(consumer)) {}
  /// Effects that ran after a commit (one per applied Probe).
  int committed_effects() const { return effects_.load(); }
  bool wants(const std::string& type) const override { return type == kType; }
  void apply(events::HandlerContext& ctx) override;

  static constexpr const char* kType = "bazaar.test.Probe.v1";
  static inline std::atomic<bool> bug_present{false};

 private:
  std::string consumer_;
  std::atomic<int> effects_{0};
  std::mutex mutex_;
  std::map<std::string, std::chrono::steady_clock::time_point> first_seen_;
};

}  // namespace bazaar::tests
