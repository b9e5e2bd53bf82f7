#pragma once

#include <functional>

#include "admin/dashboard_api.hpp"
#include "api_context.hpp"
#include "auth/auth_api.hpp"
#include "auth/jwt.hpp"
#include "auth/passwords.hpp"
#include "docs_api.hpp"
#include "http/router.hpp"

namespace bazaar::edge {

/// Everything the routes need besides the context.
struct ApiSettings {
  PasswordParams passwords;
  DocsSettings docs;
  DashboardSettings dashboard;
  AuthRateLimit auth_rate;
};

/// Registers every route of the public API (the table of DESIGN.md and openapi.yaml).
void register_api(Router& router, ApiContext& api, const TokenService& tokens,
                  const ApiSettings& settings, std::function<bool()> ready);

}  // namespace bazaar::edge
