#pragma once

#include <chrono>

#include "events/service.hpp"

namespace bazaar::analytics {

/// Publishes a StatsSnapshot of every metric that changed since its last one, and of every
/// metric not published for `refresh`, in one transaction with the outbox. Returns how many.
int publish_snapshots(events::TaskContext& ctx, std::chrono::seconds refresh);

}  // namespace bazaar::analytics
