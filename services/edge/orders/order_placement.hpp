#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "api_context.hpp"
#include "contracts/contracts.hpp"
#include "events/handler.hpp"
#include "events/uuid.hpp"
#include "http/http_types.hpp"
#include "http/router.hpp"
#include "orders/order_view.hpp"

namespace soci {
class session;
}

namespace bazaar::edge {

/// A line as the buyer asks for it.
struct PlaceLine {
  std::string product_id;
  std::int64_t quantity = 0;
};

/// The lines of an order to place, or the problem to answer instead (an empty cart).
struct PlaceLines {
  std::vector<PlaceLine> lines;
  std::optional<HttpResponse> problem;
};

/// Places orders the one way both POST /orders and POST /cart/checkout do: Idempotency-Key,
/// products checked against products_view with the order service's pricing rules, the view
/// rows and PlaceOrder in one transaction, 202 with Location, then Prefer: wait.
class OrderPlacement {
 public:
  explicit OrderPlacement(ApiContext& api);

  /// Gets the lines inside the placement's transaction (a cart is read and locked there).
  using LineSource = std::function<PlaceLines(soci::session&)>;
  /// Runs in the same transaction once the order is written (the cart is emptied there).
  using AfterPlaced = std::function<void(soci::session&)>;

  /// Answers one placement request; `body` is its parsed JSON (fingerprinted for the key).
  /// Without a payment token the order waits for POST /orders/{id}/payment once its stock is
  /// reserved.
  HttpResponse place(const RequestContext& ctx, const boost::json::object& body,
                     const std::optional<std::string>& payment_token, const LineSource& lines,
                     const AfterPlaced& after);

 private:
  ApiContext& api_;
  events::UuidV7Generator ids_;
};

/// The answer of every order route: the order as JSON with `status`.
HttpResponse order_answer(int status, const OrderView& order);

/// Writes an order command to the outbox of the open transaction; the order id keys and
/// correlates every event of its saga, the command that starts it included.
template <typename Command>
void send_command(ApiContext& api, events::OutboxWriter& out, const Command& command) {
  require_broker(api);
  events::emit(out, api.factory, contracts::topic::kOrderCommands, command.order_id, command,
               nullptr, command.order_id);
}

}  // namespace bazaar::edge
