#pragma once

#include <optional>
#include <string_view>

namespace bazaar::edge {

/// The longest `Prefer: wait` the edge honours, in seconds; a request thread is held meanwhile.
inline constexpr int kMaxPreferWaitSeconds = 30;

/// The `wait` preference of a `Prefer` header (RFC 7240), in seconds, capped at
/// kMaxPreferWaitSeconds; nullopt when absent or malformed. Other preferences are ignored.
std::optional<int> prefer_wait(std::string_view header);

}  // namespace bazaar::edge
