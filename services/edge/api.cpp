#include "api.hpp"

#include "admin/admin_api.hpp"
#include "auth/auth_api.hpp"
#include "auth/contacts_api.hpp"
#include "auth/users_api.hpp"
#include "cart/cart_api.hpp"
#include "catalog/products_api.hpp"
#include "http/problem.hpp"
#include "notifications/notifications_api.hpp"
#include "orders/orders_api.hpp"

namespace bazaar::edge {

void require_broker(const ApiContext& api) {
  if (api.broker_up && !api.broker_up()) {
    throw DependencyUnavailable("the event broker is unreachable", 5);
  }
}

void register_api(Router& router, ApiContext& api, const TokenService& tokens,
                  const ApiSettings& settings, std::function<bool()> ready) {
  register_auth_routes(router, api, tokens, settings.passwords, settings.auth_rate);
  register_user_routes(router, api, settings.passwords);
  register_contact_routes(router, api);
  register_product_routes(router, api);
  register_cart_routes(router, api);
  register_order_routes(router, api);
  register_notification_routes(router, api);
  register_admin_routes(router, api);
  register_dashboard_routes(router, settings.dashboard);
  register_docs_routes(router, settings.docs, std::move(ready));
}

}  // namespace bazaar::edge
