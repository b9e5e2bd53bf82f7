#pragma once

#include <cstddef>

namespace bazaar::events {
struct TaskContext;
}

namespace bazaar::inventory {

/// Reservations released per transaction by the expiry scan.
inline constexpr int kExpiryBatch = 100;

/// Releases active reservations past their expiry as EXPIRED, each with StockReleased
/// {reason "expired"} and StockLevelChanged per product, in transactions of at most `batch`.
/// Safe to run in several instances at once. Returns how many it released.
std::size_t expire_reservations(events::TaskContext& ctx, int batch = kExpiryBatch);

}  // namespace bazaar::inventory
