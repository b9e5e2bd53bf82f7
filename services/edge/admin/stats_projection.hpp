#pragma once

#include <string>

#include "contracts/contracts.hpp"
#include "events/handler.hpp"
#include "http/live_push.hpp"

namespace bazaar::edge {

/// Edge's stats read model from analytics.events: the latest StatsSnapshot of each metric
/// (an older one never replaces a newer one), and each day's sales rows for the sales
/// reports. Admins' open sessions are told when a metric changed.
class StatsProjection final : public events::DispatchHandler<StatsProjection> {
 public:
  static constexpr const char* kGroup = "edge-stats";

  explicit StatsProjection(const LivePush& live);

 private:
  void snapshot(events::HandlerContext& ctx, const contracts::analytics::StatsSnapshotV1& e);

  const LivePush& live_;
};

/// The live message of a changed metric: {"type":"stats","metric","as_of"}.
std::string stats_message(const std::string& metric, const std::string& as_of);

}  // namespace bazaar::edge
