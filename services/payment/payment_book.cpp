#include "payment_book.hpp"

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <set>
#include <stdexcept>

#include "events/db.hpp"
#include "events/uuid.hpp"

namespace bazaar::payment {
namespace {

// A transaction's payments are read and locked once (PaymentBook::lock) and written back once
// (PaymentBook::flush). Their rows are created first, so that the SELECT ... FOR UPDATE always
// has a row to lock: two instances handling one order (during a rebalance) then queue on it
// instead of racing. Ids come in ascending order, the order every transaction locks them in.
// BatchStatements: planned on every run for several payments, since a generic plan made while
// the table was small scans it whole once it has grown.
const events::BatchStatement kEnsurePayments{"payment_ensure_many", R"sql(
INSERT INTO payments (order_id, status, amount, currency)
SELECT order_id, status, amount, currency
FROM json_to_recordset(CAST($1 AS json)) AS r(order_id uuid, status text, amount bigint,
                                              currency text)
ORDER BY order_id
ON CONFLICT (order_id) DO NOTHING)sql"};

const events::BatchStatement kLockPayments{"payment_lock_many", R"sql(
SELECT order_id::text, status, COALESCE(payment_id::text, ''), amount, currency, charged_amount,
       refunded_amount, COALESCE(decline_reason, ''), last_attempt
FROM payments
WHERE order_id = ANY(CAST($1 AS uuid[]))
ORDER BY order_id
FOR UPDATE)sql"};

// The changed payments, found by key (= ANY of their ids, as in the order service's flush).
// Attempts count up by what this transaction tried; a charge or a refund stamps its time.
const events::BatchStatement kWritePayments{"payment_write_many", R"sql(
WITH r AS (
  SELECT * FROM json_to_recordset(CAST($1 AS json)) AS r(
    order_id uuid, status text, payment_id uuid, amount bigint, currency text,
    charged_amount bigint, refunded_amount bigint, decline_reason text, last_attempt integer,
    attempts integer, charged boolean, refunded boolean))
UPDATE payments p
SET status = r.status, payment_id = r.payment_id, amount = r.amount, currency = r.currency,
    charged_amount = r.charged_amount, refunded_amount = r.refunded_amount,
    decline_reason = r.decline_reason, last_attempt = r.last_attempt,
    attempts = p.attempts + r.attempts,
    charged_at = CASE WHEN r.charged THEN now() ELSE p.charged_at END,
    refunded_at = CASE WHEN r.refunded THEN now() ELSE p.refunded_at END,
    updated_at = now()
FROM r
WHERE p.order_id = r.order_id AND p.order_id = ANY(ARRAY(SELECT order_id FROM r)))sql"};

// The book's key of an order id: its canonical form (what the database returns) when it is one.
std::string key_of(const std::string& id) {
  const auto uuid = events::Uuid::parse(id);
  return uuid ? uuid->str() : id;
}

boost::json::value text_or_null(const std::string& text) {
  if (text.empty()) return nullptr;
  return boost::json::value(text);
}

}  // namespace

void PaymentBook::lock(soci::session& sql, const std::vector<Initial>& wanted) {
  boost::json::array rows;
  std::vector<std::string> ids;
  std::set<std::string> seen;
  for (const auto& w : wanted) {
    std::string key = key_of(w.order_id);
    if (held_.contains(key) || !seen.insert(key).second) continue;
    rows.push_back(boost::json::object{{"order_id", key},
                                       {"status", to_string(w.status)},
                                       {"amount", w.amount},
                                       {"currency", w.currency}});
    ids.push_back(std::move(key));
  }
  if (ids.empty()) return;
  const std::string json = boost::json::serialize(rows);
  kEnsurePayments.rows(ids.size()).run(sql, {&json});
  const std::string array = events::pg_text_array(ids);
  const events::PreparedRows locked = kLockPayments.rows(ids.size()).query(sql, {&array});
  for (int i = 0; i < locked.size(); ++i) {
    const std::string status = locked.text(i, 1);
    const auto parsed = parse_status(status);
    if (!parsed) {
      throw std::logic_error("payment of " + locked.text(i, 0) + " unreadable: status " + status);
    }
    Held& held = held_[locked.text(i, 0)];
    held.row = PaymentRow{.status = *parsed,
                          .payment_id = locked.text(i, 2),
                          .amount = locked.integer(i, 3),
                          .currency = locked.text(i, 4),
                          .charged = locked.integer(i, 5),
                          .refunded = locked.integer(i, 6),
                          .decline_reason = locked.text(i, 7),
                          .last_attempt = static_cast<int>(locked.integer(i, 8))};
  }
  for (const auto& id : ids) {
    if (!held_.contains(id)) throw std::logic_error("payment of " + id + " vanished");
  }
}

PaymentRow PaymentBook::ensure(soci::session& sql, const Initial& initial) {
  lock(sql, {initial});
  return held_.at(key_of(initial.order_id)).row;
}

void PaymentBook::write(const std::string& order_id, const PaymentRow& after, bool attempted,
                        bool charged, bool refunded) {
  const std::string key = key_of(order_id);
  const auto it = held_.find(key);
  if (it == held_.end()) throw std::logic_error("payment of " + order_id + " was never locked");
  Held& held = it->second;
  held.row = after;
  if (attempted) ++held.attempts;
  held.charged = held.charged || charged;
  held.refunded = held.refunded || refunded;
  if (!held.dirty) {
    held.dirty = true;
    dirty_.push_back(key);
  }
}

void PaymentBook::flush(soci::session& sql) {
  if (dirty_.empty()) return;
  boost::json::array rows;
  for (const auto& key : dirty_) {
    Held& held = held_.at(key);
    const PaymentRow& r = held.row;
    rows.push_back(boost::json::object{{"order_id", key},
                                       {"status", to_string(r.status)},
                                       {"payment_id", text_or_null(r.payment_id)},
                                       {"amount", r.amount},
                                       {"currency", r.currency},
                                       {"charged_amount", r.charged},
                                       {"refunded_amount", r.refunded},
                                       {"decline_reason", text_or_null(r.decline_reason)},
                                       {"last_attempt", r.last_attempt},
                                       {"attempts", held.attempts},
                                       {"charged", held.charged},
                                       {"refunded", held.refunded}});
    held.dirty = false;
    held.attempts = 0;
    held.charged = false;
    held.refunded = false;
  }
  dirty_.clear();
  const std::string json = boost::json::serialize(rows);
  kWritePayments.rows(rows.size()).run(sql, {&json});
}

void PaymentBook::clear() {
  held_.clear();
  dirty_.clear();
}

}  // namespace bazaar::payment
