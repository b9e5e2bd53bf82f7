#pragma once

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace bazaar::fuzz {

/// Stops the run when an invariant does not hold: libFuzzer reports the abort as a crash and
/// keeps the input that caused it.
inline void require(bool holds, std::string_view invariant) {
  if (holds) return;
  std::fprintf(stderr, "invariant broken: %.*s\n", static_cast<int>(invariant.size()),
               invariant.data());
  std::abort();
}

}  // namespace bazaar::fuzz
