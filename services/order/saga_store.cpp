#include "saga_store.hpp"

#include <soci/soci.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "events/outbox.hpp"

namespace bazaar::order {
namespace {

constexpr const char* kLoadOrder = R"sql(
SELECT buyer_id::text, status, reason, total, currency, payment_token,
       stock_held::int, charged::int, awaiting_release::int, awaiting_refund::int
FROM orders WHERE order_id = CAST(:id AS uuid) FOR UPDATE)sql";

constexpr const char* kLoadLines = R"sql(
SELECT product_id::text, quantity, unit_price, seller_id::text
FROM order_lines WHERE order_id = CAST(:id AS uuid) ORDER BY line_no)sql";

constexpr const char* kInsertOrder = R"sql(
INSERT INTO orders (order_id, buyer_id, status, reason, total, currency, payment_token,
                    created_at, updated_at)
VALUES (CAST(:id AS uuid), CAST(:buyer AS uuid), :status, :reason, :total, :currency, :token,
        CAST(:created AS timestamptz), CAST(:updated AS timestamptz)))sql";

constexpr const char* kInsertLine = R"sql(
INSERT INTO order_lines (order_id, line_no, product_id, quantity, unit_price, seller_id)
VALUES (CAST(:id AS uuid), :no, CAST(:product AS uuid), :quantity, :price, CAST(:seller AS uuid)))sql";

// The deadline is re-armed, kept or cleared in the same statement as the state.
constexpr const char* kUpdateOrder = R"sql(
UPDATE orders SET status = :status, reason = :reason,
       stock_held = (:held <> 0), charged = (:charged <> 0),
       awaiting_release = (:release <> 0), awaiting_refund = (:refund <> 0),
       deadline_at = CASE :mode WHEN 'set' THEN CAST(:deadline AS timestamptz)
                                WHEN 'clear' THEN NULL ELSE deadline_at END,
       updated_at = CAST(:now AS timestamptz)
WHERE order_id = CAST(:id AS uuid))sql";

constexpr const char* kInsertStep = R"sql(
INSERT INTO saga_steps (order_id, at, trigger, from_status, to_status, commands, note)
VALUES (CAST(:id AS uuid), CAST(:now AS timestamptz), :trigger, :from, :to, :commands, :note))sql";

constexpr const char* kDueOrders = R"sql(
SELECT order_id::text FROM orders
WHERE deadline_at <= CAST(:now AS timestamptz)
ORDER BY deadline_at LIMIT :n FOR UPDATE SKIP LOCKED)sql";

const char* command_name(Command c) {
  switch (c) {
    case Command::kReserveStock: return "ReserveStock";
    case Command::kChargePayment: return "ChargePayment";
    case Command::kCommitReservation: return "CommitReservation";
    case Command::kReleaseStock: return "ReleaseStock";
    case Command::kRefundPayment: return "RefundPayment";
  }
  return "Unknown";
}

boost::json::array lines_json(const std::vector<PricedLine>& lines, bool priced) {
  boost::json::array out;
  for (const auto& l : lines) {
    boost::json::object o{{"product_id", l.product_id}, {"quantity", l.quantity}};
    if (priced) {
      o["unit_price"] = l.unit_price;
      o["seller_id"] = l.seller_id;
    }
    out.push_back(std::move(o));
  }
  return out;
}

// Statuses where the saga waits for nothing and no deadline may stay armed.
bool is_outcome(Status s) {
  return s == Status::kConfirmed || s == Status::kShipped || is_terminal(s);
}

}  // namespace

SagaStore::SagaStore(Timeouts timeouts, const events::EnvelopeFactory& factory,
                     const events::Clock& clock)
    : timeouts_(timeouts), factory_(factory), clock_(clock) {}

std::optional<OrderRecord> SagaStore::load_for_update(soci::session& sql,
                                                      const std::string& order_id) const {
  OrderRecord r;
  r.order_id = order_id;
  std::string id = order_id;
  std::string status;
  long long total = 0;
  int held = 0, charged = 0, release = 0, refund = 0;
  soci::indicator found = soci::i_null;
  sql << kLoadOrder, soci::use(id), soci::into(r.buyer_id, found), soci::into(status),
      soci::into(r.saga.reason), soci::into(total), soci::into(r.currency),
      soci::into(r.payment_token), soci::into(held), soci::into(charged), soci::into(release),
      soci::into(refund);
  if (!sql.got_data()) return std::nullopt;
  r.total = total;
  r.saga.status = status_from_string(status).value_or(Status::kRejected);
  r.saga.stock_held = held != 0;
  r.saga.charged = charged != 0;
  r.saga.awaiting_release = release != 0;
  r.saga.awaiting_refund = refund != 0;

  constexpr std::size_t kMaxLines = 100;  // the PlaceOrder schema's limit
  std::vector<std::string> products(kMaxLines), sellers(kMaxLines);
  std::vector<long long> quantities(kMaxLines), prices(kMaxLines);
  sql << kLoadLines, soci::use(id), soci::into(products), soci::into(quantities),
      soci::into(prices), soci::into(sellers);
  for (std::size_t i = 0; i < products.size(); ++i) {
    r.lines.push_back({products[i], quantities[i], prices[i], sellers[i]});
  }
  return r;
}

void SagaStore::insert(soci::session& sql, events::OutboxWriter& out, const OrderRecord& order,
                       const events::Envelope* cause) const {
  std::string id = order.order_id;
  std::string buyer = order.buyer_id;
  std::string status(to_string(order.saga.status));
  std::string reason = order.saga.reason;
  long long total = order.total;
  std::string currency = order.currency;
  std::string token = order.payment_token;
  std::string now = events::format_rfc3339(clock_.now());
  sql << kInsertOrder, soci::use(id), soci::use(buyer), soci::use(status), soci::use(reason),
      soci::use(total), soci::use(currency), soci::use(token), soci::use(now), soci::use(now);
  int no = 0;
  for (const auto& l : order.lines) {
    std::string product = l.product_id;
    long long quantity = l.quantity;
    long long price = l.unit_price;
    std::string seller = l.seller_id;
    sql << kInsertLine, soci::use(id), soci::use(no), soci::use(product), soci::use(quantity),
        soci::use(price), soci::use(seller);
    ++no;
  }
  if (order.saga.status == Status::kRejected) {
    log_step(sql, order.order_id, "bazaar.order.PlaceOrder.v1", Status::kPlaced, Status::kRejected,
             {}, "could not be priced: " + order.saga.reason);
    send(out, kOrderEvents, "bazaar.order.OrderRejected.v1", order.order_id,
         {{"order_id", order.order_id}, {"buyer_id", order.buyer_id}, {"reason", order.saga.reason}},
         cause);
    return;
  }
  log_step(sql, order.order_id, "bazaar.order.PlaceOrder.v1", Status::kPlaced, Status::kPlaced, {},
           "placed with captured prices");
  send(out, kOrderEvents, "bazaar.order.OrderPlaced.v1", order.order_id,
       {{"order_id", order.order_id},
        {"buyer_id", order.buyer_id},
        {"lines", lines_json(order.lines, true)},
        {"total", order.total},
        {"currency", order.currency}},
       cause);
}

void SagaStore::apply(soci::session& sql, events::OutboxWriter& out, const OrderRecord& before,
                      const Decision& d, const std::string& trigger,
                      const events::Envelope* cause) const {
  const Status from = before.saga.status;
  const Status to = d.saga.status;
  const auto now = clock_.now();

  std::string mode = "keep";
  std::string deadline;
  if (is_outcome(to)) {
    mode = "clear";
  } else if (d.deadline != Deadline::kNone) {
    mode = "set";
    const auto wait = d.deadline == Deadline::kStock     ? timeouts_.stock
                      : d.deadline == Deadline::kPayment ? timeouts_.payment
                                                         : timeouts_.compensation;
    deadline = events::format_rfc3339(now + wait);
  }
  std::string id = before.order_id;
  std::string status(to_string(to));
  std::string reason = d.saga.reason;
  int held = d.saga.stock_held ? 1 : 0;
  int charged = d.saga.charged ? 1 : 0;
  int release = d.saga.awaiting_release ? 1 : 0;
  int refund = d.saga.awaiting_refund ? 1 : 0;
  std::string stamp = events::format_rfc3339(now);
  soci::indicator deadline_ind = deadline.empty() ? soci::i_null : soci::i_ok;
  sql << kUpdateOrder, soci::use(status), soci::use(reason), soci::use(held), soci::use(charged),
      soci::use(release), soci::use(refund), soci::use(mode), soci::use(deadline, deadline_ind),
      soci::use(stamp), soci::use(id);
  log_step(sql, before.order_id, trigger, from, to, d.commands, d.note);

  for (Command c : d.commands) send_command(out, c, before, d.saga.reason, cause);

  if (d.rejected) {
    send(out, kOrderEvents, "bazaar.order.OrderCommandRejected.v1", before.order_id,
         {{"order_id", before.order_id},
          {"command", trigger},
          {"reason", d.note},
          {"status", to_string(to)}},
         cause);
  }
  if (from == to) return;
  boost::json::object changed{{"order_id", before.order_id},
                              {"buyer_id", before.buyer_id},
                              {"status", to_string(to)},
                              {"previous_status", to_string(from)}};
  if (!d.saga.reason.empty()) changed["reason"] = d.saga.reason;
  send(out, kOrderEvents, "bazaar.order.OrderStatusChanged.v1", before.order_id, changed, cause);
  if (to == Status::kConfirmed) {
    send(out, kOrderEvents, "bazaar.order.OrderConfirmed.v1", before.order_id,
         {{"order_id", before.order_id},
          {"buyer_id", before.buyer_id},
          {"lines", lines_json(before.lines, true)},
          {"total", before.total},
          {"currency", before.currency}},
         cause);
  } else if (to == Status::kRejected) {
    send(out, kOrderEvents, "bazaar.order.OrderRejected.v1", before.order_id,
         {{"order_id", before.order_id},
          {"buyer_id", before.buyer_id},
          {"reason", d.saga.reason},
          {"total", before.total},
          {"currency", before.currency}},
         cause);
  } else if (to == Status::kCancelled) {
    send(out, kOrderEvents, "bazaar.order.OrderCancelled.v1", before.order_id,
         {{"order_id", before.order_id},
          {"buyer_id", before.buyer_id},
          {"reason", d.saga.reason},
          {"total", before.total},
          {"currency", before.currency},
          {"previous_status", to_string(from)}},
         cause);
  }
}

void SagaStore::apply_unknown(events::OutboxWriter& out, const std::string& order_id,
                              const Decision& d, const events::Envelope* cause) const {
  OrderRecord unknown;
  unknown.order_id = order_id;
  for (Command c : d.commands) send_command(out, c, unknown, "unknown_order", cause);
}

std::vector<std::string> SagaStore::due_orders(soci::session& sql, int limit) const {
  std::vector<std::string> ids(static_cast<std::size_t>(limit));
  std::string now = events::format_rfc3339(clock_.now());
  int n = limit;
  sql << kDueOrders, soci::use(now), soci::use(n), soci::into(ids);
  return ids;
}

void SagaStore::send(events::OutboxWriter& out, const std::string& topic, const std::string& type,
                     const std::string& order_id, boost::json::object payload,
                     const events::Envelope* cause) const {
  events::Envelope e = factory_.make(type, order_id, std::move(payload), cause);
  // The order id correlates every event of its saga, also those a deadline caused.
  e.correlation_id = order_id;
  out.add(topic, e);
}

void SagaStore::send_command(events::OutboxWriter& out, Command c, const OrderRecord& order,
                             const std::string& reason, const events::Envelope* cause) const {
  const std::string& id = order.order_id;
  switch (c) {
    case Command::kReserveStock:
      send(out, "inventory.commands", "bazaar.inventory.ReserveStock.v1", id,
           {{"order_id", id}, {"lines", lines_json(order.lines, false)}}, cause);
      break;
    case Command::kChargePayment:
      send(out, "payment.commands", "bazaar.payment.ChargePayment.v1", id,
           {{"order_id", id},
            {"amount", order.total},
            {"currency", order.currency},
            {"payment_token", order.payment_token},
            {"buyer_id", order.buyer_id}},
           cause);
      break;
    case Command::kCommitReservation:
      send(out, "inventory.commands", "bazaar.inventory.CommitReservation.v1", id,
           {{"order_id", id}}, cause);
      break;
    case Command::kReleaseStock:
      send(out, "inventory.commands", "bazaar.inventory.ReleaseStock.v1", id,
           {{"order_id", id}, {"reason", reason.empty() ? "compensation" : reason}}, cause);
      break;
    case Command::kRefundPayment:
      send(out, "payment.commands", "bazaar.payment.RefundPayment.v1", id,
           {{"order_id", id}, {"reason", reason.empty() ? "compensation" : reason}}, cause);
      break;
  }
}

void SagaStore::log_step(soci::session& sql, const std::string& order_id,
                         const std::string& trigger, Status from, Status to,
                         const std::vector<Command>& commands, const std::string& note) const {
  std::string sent;
  for (Command c : commands) {
    if (!sent.empty()) sent += ",";
    sent += command_name(c);
  }
  std::string id = order_id;
  std::string now = events::format_rfc3339(clock_.now());
  std::string trig = trigger;
  std::string f(to_string(from));
  std::string t(to_string(to));
  std::string n = note;
  sql << kInsertStep, soci::use(id), soci::use(now), soci::use(trig), soci::use(f), soci::use(t),
      soci::use(sent), soci::use(n);
}

}  // namespace bazaar::order
