#pragma once

#include <functional>

#include "auth/role_cache.hpp"
#include "catalog/product_cache.hpp"
#include "edge_db.hpp"
#include "events/clock.hpp"
#include "events/envelope.hpp"
#include "events/schema_registry.hpp"
#include "orders/admission.hpp"
#include "orders/order_waiters.hpp"

namespace prometheus {
class Gauge;
class Histogram;
}  // namespace prometheus

namespace bazaar::edge {

/// What every API module gets: the edge database, the contracts, and the means to stamp
/// commands and events it writes to the outbox.
struct ApiContext {
  EdgeDb& db;
  const events::SchemaRegistry& schemas;
  const events::EnvelopeFactory& factory;
  const events::Clock& clock;
  OrderWaiters& waiters;  ///< requests waiting for an order's outcome (Prefer: wait)
  AdmissionControl* admission = nullptr;  ///< when set, new orders pass it first
  /// Whether the broker answered its last probe (empty: taken as up). Commands to other
  /// services are refused with 503 while it does not: they could only wait in the outbox.
  std::function<bool()> broker_up = {};
  /// When set, product reads are answered from it and product writes hold its Change.
  ProductCache* product_cache = nullptr;
  /// When set: the authenticator reads roles from it, and the account routes forget what they
  /// changed once it committed.
  RoleCache* role_cache = nullptr;
  /// When set: placements waiting for the batch that writes them, and the size of each batch.
  prometheus::Gauge* placements_queued = nullptr;
  prometheus::Histogram* placement_batches = nullptr;
};

/// Throws DependencyUnavailable (503 with Retry-After) while the broker is unreachable; called
/// before a command is written, inside its transaction, so nothing is half written.
void require_broker(const ApiContext& api);

}  // namespace bazaar::edge
