#pragma once

#include "deadline_floor.hpp"
#include "events/service.hpp"
#include "saga_store.hpp"

namespace bazaar::order {

/// Moves every saga whose deadline passed (by the injected clock): one transaction per scan,
/// rows locked with SKIP LOCKED so several instances share the work, looking only as far back
/// as `floor` says. Returns how many moved.
int scan_deadlines(events::TaskContext& ctx, const SagaStore& store, DeadlineFloor& floor,
                   int limit = 100);

}  // namespace bazaar::order
