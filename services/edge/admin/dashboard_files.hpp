#pragma once

#include <span>
#include <string_view>

namespace bazaar::edge {

/// One file compiled into the binary.
struct EmbeddedFile {
  std::string_view name;
  std::string_view text;
};

/// The dashboard page's own files (services/edge/admin/dashboard/), compiled in by
/// cmake/embed_files.cmake so a binary always serves the page written for its API.
std::span<const EmbeddedFile> dashboard_files();

}  // namespace bazaar::edge
