#include "orders/order_view.hpp"

#include <soci/soci.h>

#include <array>
#include <boost/json/array.hpp>
#include <chrono>
#include <utility>

#include "catalog/money.hpp"
#include "events/clock.hpp"
#include "events/db.hpp"
#include "events/envelope.hpp"
#include "events/uuid.hpp"
#include "order_status.hpp"

namespace bazaar::edge {
namespace {

// Steps are shown in arrival order: one order's events share a partition, so seq is the
// saga's own order. Times leave the database as microseconds since the epoch: exact, and free of
// time zones.
constexpr const char* kLoadOrder = R"sql(
SELECT buyer_id::text, status, COALESCE(reason, ''), total, currency, COALESCE(payment_token, ''),
       CAST(extract(epoch FROM created_at) * 1000000 AS bigint),
       CAST(extract(epoch FROM updated_at) * 1000000 AS bigint),
       CAST(payment_due_at IS NOT NULL AS integer)
FROM orders_view WHERE order_id = CAST(:id AS uuid))sql";

constexpr const char* kLoadLines = R"sql(
SELECT product_id::text, quantity, unit_price
FROM order_lines_view WHERE order_id = CAST(:id AS uuid) ORDER BY line_no)sql";

constexpr const char* kLoadSteps = R"sql(
SELECT status, previous_status, COALESCE(reason, ''),
       CAST(extract(epoch FROM at) * 1000000 AS bigint)
FROM order_steps_view WHERE order_id = CAST(:id AS uuid) ORDER BY seq)sql";

// Keyset paging on (created_at, order_id), which the indexes of 003_orders.sql serve.
constexpr const char* kListOrders = R"sql(
SELECT order_id::text, buyer_id::text, status, COALESCE(reason, ''), total, currency,
       COALESCE(payment_token, ''),
       CAST(extract(epoch FROM created_at) * 1000000 AS bigint),
       CAST(extract(epoch FROM updated_at) * 1000000 AS bigint)
FROM orders_view
WHERE buyer_id = COALESCE(CAST(NULLIF(:buyer, '') AS uuid), buyer_id)
  AND status = COALESCE(NULLIF(:status, ''), status)
  AND (CAST(:first AS integer) = 1 OR
       (created_at, order_id) < (TIMESTAMPTZ 'epoch' + CAST(:after_us AS bigint) * INTERVAL '1 microsecond',
                                 CAST(:after_id AS uuid)))
ORDER BY created_at DESC, order_id DESC
LIMIT :n)sql";

constexpr const char* kListLines = R"sql(
SELECT order_id::text, product_id::text, quantity, unit_price
FROM order_lines_view WHERE order_id = ANY(CAST(:ids AS uuid[])) ORDER BY order_id, line_no)sql";

boost::json::array lines_json(const std::vector<OrderLine>& lines) {
  boost::json::array out;
  for (const auto& l : lines) {
    out.push_back(boost::json::object{{"product_id", l.product_id},
                                      {"quantity", l.quantity},
                                      {"unit_price", from_minor(l.unit_price)}});
  }
  return out;
}

OrderView order_from_row(const soci::row& r, std::size_t first) {
  OrderView o;
  o.buyer_id = r.get<std::string>(first);
  o.status = r.get<std::string>(first + 1);
  o.reason = r.get<std::string>(first + 2);
  o.total = r.get<long long>(first + 3);
  o.currency = r.get<std::string>(first + 4);
  o.payment_token = r.get<std::string>(first + 5);
  o.created_us = r.get<long long>(first + 6);
  o.updated_us = r.get<long long>(first + 7);
  return o;
}

}  // namespace

bool is_known_status(std::string_view status) {
  return order::status_from_string(status).has_value();
}

bool may_move(std::string_view from, std::string_view to) {
  const auto target = order::status_from_string(to);
  if (!target) return false;
  const auto current = order::status_from_string(from);
  // A status the edge does not know cannot be ordered: the saga's word wins.
  if (!current) return true;
  return order::may_follow(*current, *target);
}

bool is_settled(std::string_view status) {
  const auto s = order::status_from_string(status);
  return s && order::is_settled(*s);
}

bool answers_wait(std::string_view status, bool payment_window_open) {
  return is_settled(status) || (status == "AWAITING_PAYMENT" && payment_window_open);
}

bool answers_wait(const OrderView& order) {
  return answers_wait(order.status, order.payment_window_open);
}

bool is_outcome(std::string_view status) {
  const auto s = order::status_from_string(status);
  return s && order::is_outcome(*s);
}

std::string format_time_us(std::int64_t us) {
  return events::format_rfc3339(events::Clock::time_point{std::chrono::microseconds{us}});
}

boost::json::object to_json(const OrderView& order, bool with_token) {
  boost::json::object o{{"id", order.id},
                        {"status", order.status},
                        {"lines", lines_json(order.lines)},
                        {"total", from_minor(order.total)},
                        {"currency", order.currency}};
  if (with_token && !order.payment_token.empty()) o["payment_token"] = order.payment_token;
  if (!order.reason.empty()) o["reason"] = order.reason;
  if (order.steps) {
    boost::json::array steps;
    for (const auto& s : *order.steps) {
      boost::json::object step{{"status", s.status}};
      step["previous_status"] = s.previous_status;
      if (!s.reason.empty()) step["reason"] = s.reason;
      step["at"] = format_time_us(s.at_us);
      steps.push_back(std::move(step));
    }
    o["steps"] = std::move(steps);
  }
  o["created_at"] = format_time_us(order.created_us);
  o["updated_at"] = format_time_us(order.updated_us);
  return o;
}

std::optional<OrderView> load_order(soci::session& sql, const std::string& order_id,
                                    bool with_steps) {
  if (!events::Uuid::parse(order_id)) return std::nullopt;
  OrderView o;
  o.id = order_id;
  long long total = 0;
  long long created = 0;
  long long updated = 0;
  int window = 0;
  sql << kLoadOrder, soci::use(order_id, "id"), soci::into(o.buyer_id), soci::into(o.status),
      soci::into(o.reason), soci::into(total), soci::into(o.currency), soci::into(o.payment_token),
      soci::into(created), soci::into(updated), soci::into(window);
  if (!sql.got_data()) return std::nullopt;
  o.payment_window_open = window != 0;
  o.total = total;
  o.created_us = created;
  o.updated_us = updated;
  {
    soci::rowset<soci::row> rows = (sql.prepare << kLoadLines, soci::use(order_id, "id"));
    for (const auto& r : rows) {
      o.lines.push_back({r.get<std::string>(0), r.get<long long>(1), r.get<long long>(2)});
    }
  }
  if (with_steps) {
    std::vector<OrderStep> steps;
    soci::rowset<soci::row> rows = (sql.prepare << kLoadSteps, soci::use(order_id, "id"));
    for (const auto& r : rows) {
      steps.push_back({r.get<std::string>(0), r.get<std::string>(1), r.get<std::string>(2),
                       r.get<long long>(3)});
    }
    o.steps = std::move(steps);
  }
  return o;
}

OrderPage list_orders(soci::session& sql, const OrderFilter& filter) {
  OrderPage page;
  const int first = filter.after_created_us ? 0 : 1;
  const long long after_us = filter.after_created_us.value_or(0);
  const std::string after_id = filter.after_created_us
                                   ? filter.after_id
                                   : std::string("00000000-0000-0000-0000-000000000000");
  // One more than asked tells whether a next page exists.
  const int n = filter.limit + 1;
  {
    soci::rowset<soci::row> rows =
        (sql.prepare << kListOrders, soci::use(filter.buyer_id, "buyer"),
         soci::use(filter.status, "status"), soci::use(first, "first"),
         soci::use(after_us, "after_us"), soci::use(after_id, "after_id"), soci::use(n, "n"));
    for (const auto& r : rows) {
      OrderView o = order_from_row(r, 1);
      o.id = r.get<std::string>(0);
      page.items.push_back(std::move(o));
    }
  }
  if (page.items.size() > static_cast<std::size_t>(filter.limit)) {
    page.items.pop_back();
    page.more = true;
  }
  if (page.items.empty()) return page;

  std::vector<std::string> order_ids;
  for (const auto& o : page.items) order_ids.push_back(o.id);
  const std::string ids = events::pg_text_array(order_ids);
  soci::rowset<soci::row> rows = (sql.prepare << kListLines, soci::use(ids, "ids"));
  for (const auto& r : rows) {
    const std::string order_id = r.get<std::string>(0);
    for (auto& o : page.items) {
      if (o.id == order_id) {
        o.lines.push_back({r.get<std::string>(1), r.get<long long>(2), r.get<long long>(3)});
        break;
      }
    }
  }
  return page;
}

}  // namespace bazaar::edge
