#pragma once

#include <filesystem>
#include <functional>

#include "http/router.hpp"

namespace bazaar::edge {

/// Where the API document and the docs page's assets are.
struct DocsSettings {
  std::filesystem::path openapi_file;
  std::filesystem::path assets_dir;  ///< swagger-ui-dist files installed by scripts/setup
};

/// Operations and documentation routes: /health/live, /health/ready, /openapi.yaml, /docs,
/// /docs/assets/{file}, and /ws for clients that did not ask for a WebSocket upgrade.
/// The files are read once here: a missing document stops start-up, not a request.
void register_docs_routes(Router& router, const DocsSettings& settings,
                          std::function<bool()> ready);

}  // namespace bazaar::edge
