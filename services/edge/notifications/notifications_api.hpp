#pragma once

#include "api_context.hpp"
#include "http/router.hpp"

namespace bazaar::edge {

/// GET /notifications (signed in): the caller's own notifications, newest first, paginated.
void register_notification_routes(Router& router, ApiContext& api);

}  // namespace bazaar::edge
