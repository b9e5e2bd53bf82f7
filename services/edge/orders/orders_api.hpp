#pragma once

#include "api_context.hpp"
#include "http/router.hpp"

namespace bazaar::edge {

/// POST /orders, GET /orders, GET /orders/{id}, POST /orders/{id}/cancel,
/// PATCH /orders/{id}/status, GET /orders/{id}/payment.
void register_order_routes(Router& router, ApiContext& api);

}  // namespace bazaar::edge
