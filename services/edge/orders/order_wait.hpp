#pragma once

#include <optional>
#include <string>

#include "api_context.hpp"
#include "http/http_types.hpp"
#include "orders/order_view.hpp"

namespace bazaar::edge {

/// Prefer: wait (RFC 7240). The order once it settled or waits for its buyer to pay
/// (answers_wait(): `answered` true), or its latest state when `seconds` pass first. Holding a
/// request thread is the price of waiting: the order projection wakes the waiter, and when every
/// waiting slot is taken it answers at once.
std::optional<OrderView> wait_for_outcome(ApiContext& api, const std::string& id, int seconds,
                                          bool& answered);

/// Says that the answer waited as the client preferred.
void add_preference_applied(HttpResponse& r, int seconds);

}  // namespace bazaar::edge
