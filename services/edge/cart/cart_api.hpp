#pragma once

#include "api_context.hpp"
#include "http/router.hpp"

namespace bazaar::edge {

/// GET /cart, PUT /cart/items/{product_id}, DELETE /cart/items/{product_id}, DELETE /cart,
/// POST /cart/checkout; buyers only. A cart holds products and quantities; prices and names
/// are read from products_view when shown, and items of deleted products are left out.
void register_cart_routes(Router& router, ApiContext& api);

}  // namespace bazaar::edge
