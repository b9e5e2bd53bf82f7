#pragma once

#include <filesystem>

#include "http/router.hpp"

namespace bazaar::edge {

/// Where the dashboard's third-party files are.
struct DashboardSettings {
  std::filesystem::path chart_dir;  ///< Chart.js (chart.umd.min.js), installed by scripts/setup
};

/// GET /admin/dashboard, the admins' live sales page, and GET /admin/dashboard/assets/{file},
/// its scripts, styles and icon. Both are public: the page signs in by itself and reads the
/// admin API with the token it gets. The files are read once here, so a missing Chart.js
/// stops start-up, not a request.
void register_dashboard_routes(Router& router, const DashboardSettings& settings);

}  // namespace bazaar::edge
