#include "order_book.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <string_view>
#include <utility>

#include "events/db.hpp"
#include "events/uuid.hpp"

namespace bazaar::order {
namespace {

// Orders with their lines, locked in ascending id; planned on every run for several
// (events::BatchStatement), so it reads a batch's orders by key however small the table was
// when the service started. Each line
// reads "product quantity price seller", the lines of an order joined by commas in line order
// (uuids and integers hold neither). Lines never change once written, so reading them before the
// lock is safe.
const events::BatchStatement kLoadOrders{"order_load_many", R"sql(
SELECT o.order_id::text, o.buyer_id::text, o.status, o.reason, o.total, o.currency,
       o.payment_token, o.stock_held::int, o.charged::int, o.awaiting_release::int,
       o.awaiting_refund::int, o.has_token::int, o.charging::int, o.attempts, o.max_attempts,
       COALESCE(to_char(o.payment_due_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), ''),
       o.refund_requested, o.refunded,
       COALESCE((SELECT string_agg(concat_ws(' ', l.product_id, l.quantity, l.unit_price,
                                             l.seller_id), ',' ORDER BY l.line_no)
                 FROM order_lines l WHERE l.order_id = o.order_id), '')
FROM orders o WHERE o.order_id = ANY(CAST($1 AS uuid[]))
ORDER BY o.order_id FOR UPDATE OF o)sql"};

const events::PreparedStatement kLoadPrices{"order_load_prices", R"sql(
SELECT product_id::text, price, currency, seller_id::text, deleted::int FROM catalog_prices
WHERE product_id = ANY(CAST($1 AS uuid[])))sql"};

// A transaction's writes in one statement: $1 the orders (new ones inserted as they stand,
// the others updated; the deadline is set, cleared or kept), $2 the lines of the new ones, $3
// the steps, logged in the order given. The foreign key of a new order's lines is checked at
// the statement's end, when the order is there. The changed orders are found by key (= ANY of
// their ids): joined with the rows as such, the planner, which takes any set-returning function
// for a hundred rows, hashes them and scans every order. A BatchStatement, like the read.
const events::BatchStatement kFlush{"order_flush", R"sql(
WITH o AS (
  SELECT * FROM json_to_recordset(CAST($1 AS json)) AS r(
    order_id uuid, new boolean, buyer_id uuid, status text, reason text, total bigint,
    currency text, payment_token text, stock_held boolean, charged boolean,
    awaiting_release boolean, awaiting_refund boolean, has_token boolean, charging boolean,
    attempts integer, max_attempts integer, payment_due_at timestamptz, deadline text,
    deadline_at timestamptz, created_at timestamptz, updated_at timestamptz)),
placed AS (
  INSERT INTO orders (order_id, buyer_id, status, reason, total, currency, payment_token,
                      stock_held, charged, awaiting_release, awaiting_refund, has_token, charging,
                      attempts, max_attempts, payment_due_at, deadline_at, created_at, updated_at)
  SELECT order_id, buyer_id, status, reason, total, currency, payment_token, stock_held, charged,
         awaiting_release, awaiting_refund, has_token, charging, attempts, max_attempts,
         payment_due_at, deadline_at, created_at, updated_at
  FROM o WHERE new),
changed AS (
  UPDATE orders SET status = o.status, reason = o.reason, stock_held = o.stock_held,
         charged = o.charged, awaiting_release = o.awaiting_release,
         awaiting_refund = o.awaiting_refund, payment_token = o.payment_token,
         has_token = o.has_token, charging = o.charging, attempts = o.attempts,
         payment_due_at = o.payment_due_at,
         deadline_at = CASE o.deadline WHEN 'set' THEN o.deadline_at WHEN 'clear' THEN NULL
                                       ELSE orders.deadline_at END,
         updated_at = o.updated_at
  FROM o WHERE orders.order_id = o.order_id AND NOT o.new
         AND orders.order_id = ANY(ARRAY(SELECT order_id FROM o WHERE NOT new))),
lines AS (
  INSERT INTO order_lines (order_id, line_no, product_id, quantity, unit_price, seller_id)
  SELECT * FROM json_to_recordset(CAST($2 AS json)) AS l(
    order_id uuid, line_no integer, product_id uuid, quantity bigint, unit_price bigint,
    seller_id uuid))
INSERT INTO saga_steps (order_id, at, trigger, from_status, to_status, commands, note)
SELECT s.order_id, s.at, s.trigger, s.from_status, s.to_status, s.commands, s.note
FROM ROWS FROM (json_to_recordset(CAST($3 AS json)) AS (
       order_id uuid, at timestamptz, trigger text, from_status text, to_status text,
       commands text, note text))
     WITH ORDINALITY AS s(order_id, at, trigger, from_status, to_status, commands, note, n)
ORDER BY s.n)sql"};

std::int64_t to_int(std::string_view text) {
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) {
    throw std::invalid_argument("not an integer in an order line: " + std::string(text));
  }
  return value;
}

// "product quantity price seller,..." as kLoadOrders writes it.
std::vector<PricedLine> parse_lines(std::string_view text) {
  std::vector<PricedLine> lines;
  while (!text.empty()) {
    const auto comma = text.find(',');
    std::string_view line = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    std::string_view parts[4];
    for (int i = 0; i < 4; ++i) {
      const auto space = i < 3 ? line.find(' ') : std::string_view::npos;
      if (i < 3 && space == std::string_view::npos) {
        throw std::invalid_argument("malformed order line: " + std::string(line));
      }
      parts[i] = line.substr(0, space);
      if (i < 3) line = line.substr(space + 1);
    }
    lines.push_back(
        {std::string(parts[0]), to_int(parts[1]), to_int(parts[2]), std::string(parts[3])});
  }
  return lines;
}

const char* deadline_mode(DeadlineChange::Mode mode) {
  switch (mode) {
    case DeadlineChange::Mode::kSet:
      return "set";
    case DeadlineChange::Mode::kClear:
      return "clear";
    case DeadlineChange::Mode::kKeep:
      break;
  }
  return "keep";
}

boost::json::value text_or_null(const std::string& text) {
  if (text.empty()) return nullptr;
  return boost::json::value(text);
}

}  // namespace

std::string OrderBook::key_of(const std::string& id) {
  const auto uuid = events::Uuid::parse(id);
  return uuid ? uuid->str() : id;
}

void OrderBook::load(soci::session& sql, const std::vector<std::string>& ids) {
  std::vector<std::string> wanted;
  for (const auto& id : ids) {
    const std::string key = key_of(id);
    if (!orders_.contains(key)) wanted.push_back(key);
  }
  if (wanted.empty()) return;
  const std::string array = events::pg_text_array(wanted);
  const events::PreparedRows rows = kLoadOrders.rows(wanted.size()).query(sql, {&array});
  for (const auto& key : wanted) orders_.try_emplace(key);  // unknown unless found below
  for (int i = 0; i < rows.size(); ++i) {
    OrderRecord r;
    r.order_id = rows.text(i, 0);
    r.buyer_id = rows.text(i, 1);
    r.saga.status = status_from_string(rows.text(i, 2)).value_or(Status::kRejected);
    r.saga.reason = rows.text(i, 3);
    r.total = rows.integer(i, 4);
    r.currency = rows.text(i, 5);
    r.payment_token = rows.text(i, 6);
    r.saga.stock_held = rows.integer(i, 7) != 0;
    r.saga.charged = rows.integer(i, 8) != 0;
    r.saga.awaiting_release = rows.integer(i, 9) != 0;
    r.saga.awaiting_refund = rows.integer(i, 10) != 0;
    r.saga.has_token = rows.integer(i, 11) != 0;
    r.saga.charging = rows.integer(i, 12) != 0;
    r.saga.attempts = static_cast<int>(rows.integer(i, 13));
    r.saga.max_attempts = static_cast<int>(rows.integer(i, 14));
    r.payment_due_at = rows.text(i, 15);
    r.refund_requested = rows.integer(i, 16);
    r.refunded = rows.integer(i, 17);
    r.lines = parse_lines(rows.text(i, 18));
    orders_[r.order_id].record = std::move(r);
  }
}

std::optional<OrderRecord> OrderBook::find(soci::session& sql, const std::string& order_id) {
  load(sql, {order_id});
  return orders_.at(key_of(order_id)).record;
}

void OrderBook::load_prices(soci::session& sql, const std::vector<std::string>& ids) {
  std::vector<std::string> wanted;
  for (const auto& id : ids) {
    const std::string key = key_of(id);
    if (!prices_.contains(key)) wanted.push_back(key);
  }
  if (wanted.empty()) return;
  const std::string array = events::pg_text_array(wanted);
  const events::PreparedRows rows = kLoadPrices.query(sql, {&array});
  for (const auto& key : wanted) prices_.try_emplace(key);  // unlisted unless found below
  for (int i = 0; i < rows.size(); ++i) {
    prices_[rows.text(i, 0)] = KnownProduct{.price = rows.integer(i, 1),
                                            .currency = rows.text(i, 2),
                                            .seller_id = rows.text(i, 3),
                                            .deleted = rows.integer(i, 4) != 0};
  }
}

std::optional<KnownProduct> OrderBook::price(const std::string& product_id) const {
  const auto it = prices_.find(key_of(product_id));
  return it == prices_.end() ? std::nullopt : it->second;
}

OrderBook::Held& OrderBook::touch(const std::string& order_id) {
  const std::string key = key_of(order_id);
  Held& held = orders_[key];
  if (!held.dirty) {
    held.dirty = true;
    dirty_.push_back(key);
  }
  return held;
}

void OrderBook::add(const OrderRecord& order, const std::string& at) {
  Held& held = touch(order.order_id);
  held.record = order;
  held.is_new = true;
  held.created_at = at;
  held.updated_at = at;
}

void OrderBook::change(const OrderRecord& after, const DeadlineChange& deadline,
                       const std::string& at) {
  Held& held = touch(after.order_id);
  // The refund amounts are written by their own statements (SagaStore::record_refund,
  // refund_paid), never by the flush: the book keeps what they left, whatever `after` says.
  const auto requested = held.record ? held.record->refund_requested : after.refund_requested;
  const auto refunded = held.record ? held.record->refunded : after.refunded;
  held.record = after;
  held.record->refund_requested = requested;
  held.record->refunded = refunded;
  // What a decision carries out is not stored with the order.
  held.record->refund_id.clear();
  held.record->refund_reason.clear();
  if (deadline.mode != DeadlineChange::Mode::kKeep) held.deadline = deadline;
  held.updated_at = at;
}

void OrderBook::log(StepEntry step) {
  steps_.push_back(std::move(step));
}

void OrderBook::flush(soci::session& sql) {
  if (dirty_.empty() && steps_.empty()) return;
  boost::json::array orders;
  boost::json::array lines;
  for (const auto& key : dirty_) {
    const Held& held = orders_.at(key);
    const OrderRecord& r = *held.record;
    const bool set = held.deadline.mode == DeadlineChange::Mode::kSet;
    orders.push_back(boost::json::object{
        {"order_id", r.order_id},
        {"new", held.is_new},
        {"buyer_id", r.buyer_id},
        {"status", to_string(r.saga.status)},
        {"reason", r.saga.reason},
        {"total", r.total},
        {"currency", r.currency},
        {"payment_token", r.payment_token},
        {"stock_held", r.saga.stock_held},
        {"charged", r.saga.charged},
        {"awaiting_release", r.saga.awaiting_release},
        {"awaiting_refund", r.saga.awaiting_refund},
        {"has_token", r.saga.has_token},
        {"charging", r.saga.charging},
        {"attempts", r.saga.attempts},
        {"max_attempts", r.saga.max_attempts},
        {"payment_due_at", text_or_null(r.payment_due_at)},
        {"deadline", deadline_mode(held.deadline.mode)},
        {"deadline_at", set ? text_or_null(held.deadline.at) : boost::json::value(nullptr)},
        {"created_at", text_or_null(held.created_at)},
        {"updated_at", held.updated_at}});
    if (!held.is_new) continue;
    for (std::size_t i = 0; i < r.lines.size(); ++i) {
      const PricedLine& l = r.lines[i];
      lines.push_back(boost::json::object{{"order_id", r.order_id},
                                          {"line_no", i},
                                          {"product_id", l.product_id},
                                          {"quantity", l.quantity},
                                          {"unit_price", l.unit_price},
                                          {"seller_id", l.seller_id}});
    }
  }
  boost::json::array steps;
  for (const auto& s : steps_) {
    steps.push_back(boost::json::object{{"order_id", s.order_id},
                                        {"at", s.at},
                                        {"trigger", s.trigger},
                                        {"from_status", s.from_status},
                                        {"to_status", s.to_status},
                                        {"commands", s.commands},
                                        {"note", s.note}});
  }
  const std::string orders_json = boost::json::serialize(orders);
  const std::string lines_json = boost::json::serialize(lines);
  const std::string steps_json = boost::json::serialize(steps);
  kFlush.rows(orders.size()).run(sql, {&orders_json, &lines_json, &steps_json});
  for (const auto& key : dirty_) {
    Held& held = orders_.at(key);
    held.is_new = false;
    held.dirty = false;
    held.deadline = {};
  }
  dirty_.clear();
  steps_.clear();
}

void OrderBook::clear() {
  orders_.clear();
  dirty_.clear();
  prices_.clear();
  steps_.clear();
}

}  // namespace bazaar::order
