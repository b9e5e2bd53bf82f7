#pragma once

#include "api_context.hpp"
#include "http/router.hpp"

namespace bazaar::edge {

/// GET /admin/stats (admin): total sales, orders by status, users, products, saga durations.
void register_admin_routes(Router& router, ApiContext& api);

}  // namespace bazaar::edge
