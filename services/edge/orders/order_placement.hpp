#pragma once

#include <boost/json/object.hpp>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <mutex>
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

  /// place() for lines given in the request. Placements without an Idempotency-Key that arrive
  /// together are written together: one transaction, one statement for their products, one
  /// for their orders with lines and steps, one for their outbox rows with the COMMIT. Each
  /// still gets its own answer, as alone (a 422 for its own lines, 503 when refused); a batch
  /// the database refuses is placed again one by one.
  HttpResponse place_lines(const RequestContext& ctx, const boost::json::object& body,
                           const std::optional<std::string>& payment_token,
                           const std::vector<PlaceLine>& lines);

 private:
  // One placement waiting for its batch; filled in by whichever request thread writes it.
  struct Job {
    std::string buyer_id;
    std::vector<PlaceLine> lines;
    std::optional<std::string> payment_token;
    HttpResponse answer;
    std::string order_id;        ///< set when placed
    std::exception_ptr error;    ///< rethrown by the request (503)
    bool alone = false;          ///< the batch failed: place it on its own
    bool queued = false;         ///< waiting for a batch to take it
    bool done = false;           ///< a batch wrote it, or gave up on it
    AdmissionTicket admitted{};  ///< counted in flight by admission
  };
  HttpResponse finish(const RequestContext& ctx, const boost::json::object& body,
                      HttpResponse answer, std::string order_id, bool replayed);
  /// Queues `job` and returns once a batch wrote it (led by this thread or another).
  void submit(Job& job);
  void write_batch(const std::vector<Job*>& jobs);
  /// Counts a placement in flight, or throws Overloaded; release() when it wrote no order.
  void admit(soci::session& sql, AdmissionTicket& ticket);
  void release(AdmissionTicket& ticket);

  ApiContext& api_;
  events::UuidV7Generator ids_;
  std::mutex mutex_;
  std::condition_variable batch_done_;
  std::vector<Job*> queued_;
  int leaders_ = 0;
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
