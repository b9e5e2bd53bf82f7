#pragma once

#include "api_context.hpp"
#include "http/router.hpp"

namespace bazaar::edge {

/// GET /products, GET /products/{id} (anyone); POST /products, PATCH /products/{id},
/// PUT /products/{id}/stock (a seller for their own products, or an admin);
/// DELETE /products/{id} (admin); GET /sellers/me/products (seller). Writes answer 202: the
/// view row and the command commit in one transaction, the catalog or inventory service
/// applies the command later.
void register_product_routes(Router& router, ApiContext& api);

}  // namespace bazaar::edge
