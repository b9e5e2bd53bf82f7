#pragma once

#include "api_context.hpp"
#include "http/router.hpp"

namespace bazaar::edge {

/// The stats, answered from edge's projection of analytics.events (StatsProjection):
/// GET /admin/stats and GET /admin/stats/sales (admin), GET /sellers/me/stats (seller).
void register_admin_routes(Router& router, ApiContext& api);

}  // namespace bazaar::edge
