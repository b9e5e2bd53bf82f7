#pragma once

#include "events/service.hpp"
#include "saga_store.hpp"

namespace bazaar::order {

/// Moves every saga whose deadline passed (by the injected clock): one transaction per scan,
/// rows locked with SKIP LOCKED so several instances share the work. Returns how many moved.
int scan_deadlines(events::TaskContext& ctx, const SagaStore& store, int limit = 100);

}  // namespace bazaar::order
