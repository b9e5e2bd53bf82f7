#pragma once

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace soci {
class session;
}

namespace bazaar::edge {

/// One line of an order: a preview price until OrderPlaced brings the captured one.
struct OrderLine {
  std::string product_id;
  std::int64_t quantity = 0;
  std::int64_t unit_price = 0;  ///< minor units
};

/// One status change of an order's saga.
struct OrderStep {
  std::string status;
  std::string previous_status;  ///< PLACED for the placement itself
  std::string reason;           ///< empty when none
  std::int64_t at_us = 0;       ///< microseconds since the Unix epoch
};

/// An order as the edge's read model holds it.
struct OrderView {
  std::string id;
  std::string buyer_id;
  std::string status;
  std::string reason;      ///< empty when none
  std::int64_t total = 0;  ///< minor units
  std::string currency;
  std::string payment_token;  ///< empty when unknown (an order placed by another path)
  std::vector<OrderLine> lines;
  std::optional<std::vector<OrderStep>> steps;  ///< only when asked for
  std::int64_t created_us = 0;
  std::int64_t updated_us = 0;
  /// The order service announced a payment window (an order placed without a token, or whose
  /// card was declined with attempts left) and no payment has been asked for since. Single
  /// loads only.
  bool payment_window_open = false;
};

/// Whether `status` is one of the saga's states.
bool is_known_status(std::string_view status);

/// Whether the view may go from `from` to `to`: the same status, or one the saga can reach
/// from it. A late or replayed event naming an earlier status must not move the view back.
bool may_move(std::string_view from, std::string_view to);

/// Whether the saga reached an outcome a waiting client wants to see (CONFIRMED, REJECTED,
/// CANCELLED, or later ones: SHIPPED, DELIVERED).
bool is_settled(std::string_view status);

/// Whether a client waiting on an order (Prefer: wait) has its answer: the order settled, or it
/// waits for its buyer to pay (AWAITING_PAYMENT with its payment window open), since nothing
/// moves before the buyer does.
bool answers_wait(std::string_view status, bool payment_window_open);
bool answers_wait(const OrderView& order);

/// Whether `status` is one of the saga's first outcomes (CONFIRMED, REJECTED, CANCELLED):
/// the end of the part of the saga whose duration the stats report.
bool is_outcome(std::string_view status);

/// RFC 3339 text of a time given in microseconds since the Unix epoch.
std::string format_time_us(std::int64_t us);

/// The wire shape of an order (DESIGN.md "Wire shapes"); `with_token` adds payment_token.
boost::json::object to_json(const OrderView& order, bool with_token);

/// Which orders a list shows.
struct OrderFilter {
  std::string buyer_id;                          ///< empty: every buyer
  std::string status;                            ///< empty: every status
  std::optional<std::int64_t> after_created_us;  ///< with after_id: the last order seen
  std::string after_id;
  int limit = 20;
};

/// One page of a list, newest first.
struct OrderPage {
  std::vector<OrderView> items;
  bool more = false;  ///< whether more orders follow the last one
};

/// The order `order_id` with its lines (and steps when asked), or nullopt when unknown.
std::optional<OrderView> load_order(soci::session& sql, const std::string& order_id,
                                    bool with_steps);

/// One page of orders with their lines.
OrderPage list_orders(soci::session& sql, const OrderFilter& filter);

}  // namespace bazaar::edge
