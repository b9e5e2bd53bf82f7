#include "inventory_store.hpp"

#include <soci/soci.h>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <stdexcept>
#include <string_view>

#include "events/db.hpp"
#include "events/uuid.hpp"

namespace bazaar::inventory {
namespace {

// The statements of every reservation, prepared once per connection (events::PreparedStatement).
// ORDER BY under FOR UPDATE locks the rows in that order: every transaction of the service
// takes stock locks by ascending product id, so none waits for another in a cycle.
const events::PreparedStatement kLockStock{"inventory_lock_stock", R"sql(
SELECT product_id::text, COALESCE(seller_id::text, ''), on_hand, available, reserved, sold,
       CASE WHEN deleted_at IS NULL THEN 0 ELSE 1 END
FROM stock
WHERE product_id = ANY(CAST($1 AS uuid[]))
ORDER BY product_id
FOR UPDATE)sql"};

// One row a transaction changed; StockBook::flush writes them in product order (rows the
// transaction holds locked). A join with unnest of every changed row cost more than these
// statements for the one or two rows a transaction changes.
const events::PreparedStatement kSaveStock{"inventory_save_stock", R"sql(
UPDATE stock
SET on_hand = CAST($1 AS bigint), available = CAST($2 AS bigint), reserved = CAST($3 AS bigint),
    sold = CAST($4 AS bigint), updated_at = now()
WHERE product_id = CAST($5 AS uuid))sql"};

// Reservations with their lines ("product quantity", joined by commas in product order), locked
// in ascending order id. Lines never change once written. Planned on every run for several
// (events::BatchStatement), so it reads a batch's reservations by key however small the table
// was when the service started.
const events::BatchStatement kLockReservations{"inventory_lock_reservations", R"sql(
SELECT r.order_id::text, r.status,
       COALESCE((extract(epoch FROM r.expires_at) * 1000)::bigint, 0),
       COALESCE(to_char(r.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), ''),
       COALESCE(r.release_reason, ''),
       COALESCE(r.rejection::text, ''),
       COALESCE((SELECT string_agg(l.product_id || ' ' || l.quantity, ',' ORDER BY l.product_id)
                 FROM reservation_lines l WHERE l.order_id = r.order_id), '')
FROM reservations r
WHERE r.order_id = ANY(CAST($1 AS uuid[]))
ORDER BY r.order_id
FOR UPDATE OF r)sql"};

// A transaction's reservations in one statement (planned on every run, the changed ones found by
// key: see order_book.cpp's flush): $1 the new and changed ones (new ones
// inserted, the others given their status and release reason), $2 the lines of the new ones,
// whose foreign key is checked at the statement's end, when their reservation is there.
const events::BatchStatement kFlushReservations{"inventory_flush_reservations", R"sql(
WITH r AS (
  SELECT * FROM json_to_recordset(CAST($1 AS json)) AS r(
    order_id uuid, new boolean, status text, expires_at timestamptz, release_reason text,
    rejection jsonb)),
placed AS (
  INSERT INTO reservations (order_id, status, expires_at, release_reason, rejection)
  SELECT order_id, status, expires_at, release_reason, rejection FROM r WHERE new),
changed AS (
  UPDATE reservations SET status = r.status, release_reason = r.release_reason,
         updated_at = now()
  FROM r WHERE reservations.order_id = r.order_id AND NOT r.new
         AND reservations.order_id = ANY(ARRAY(SELECT order_id FROM r WHERE NOT new)))
INSERT INTO reservation_lines (order_id, product_id, quantity)
SELECT * FROM json_to_recordset(CAST($2 AS json)) AS l(order_id uuid, product_id uuid,
                                                        quantity bigint))sql"};

// SKIP LOCKED: several instances scan at once, each taking reservations no other holds.
constexpr const char* kLockExpired = R"sql(
SELECT order_id::text
FROM reservations
WHERE status = 'ACTIVE' AND expires_at < CAST(:now AS timestamptz)
ORDER BY expires_at, order_id
LIMIT :limit
FOR UPDATE SKIP LOCKED)sql";

// The book's key of an order id: its canonical form (what the database returns) when it is one.
std::string key_of(const std::string& id) {
  const auto uuid = events::Uuid::parse(id);
  return uuid ? uuid->str() : id;
}

}  // namespace

std::map<std::string, StockRow> lock_stock(soci::session& sql,
                                           const std::vector<std::string>& product_ids) {
  std::map<std::string, StockRow> out;
  if (product_ids.empty()) return out;
  const std::string ids = events::pg_text_array(product_ids);
  const events::PreparedRows rows = kLockStock.query(sql, {&ids});
  for (int i = 0; i < rows.size(); ++i) {
    StockRow row;
    row.seller_id = rows.text(i, 1);
    row.level.on_hand = rows.integer(i, 2);
    row.level.available = rows.integer(i, 3);
    row.level.reserved = rows.integer(i, 4);
    row.level.sold = rows.integer(i, 5);
    row.deleted = rows.integer(i, 6) != 0;
    out.emplace(rows.text(i, 0), std::move(row));
  }
  return out;
}

std::map<std::string, StockRow> StockBook::lock(soci::session& sql,
                                                const std::vector<std::string>& product_ids) {
  std::vector<std::string> missing;
  for (const auto& id : product_ids) {
    if (!rows_.contains(id)) missing.push_back(id);
  }
  for (auto& [id, row] : lock_stock(sql, missing)) rows_.insert_or_assign(id, std::move(row));
  std::map<std::string, StockRow> out;
  for (const auto& id : product_ids) {
    if (const auto it = rows_.find(id); it != rows_.end()) out.insert(*it);
  }
  return out;
}

void StockBook::save(const std::string& product_id, const StockLevel& level) {
  if (!is_consistent(level)) {
    throw std::logic_error("stock of " + product_id + " would not be conserved");
  }
  const auto it = rows_.find(product_id);
  if (it == rows_.end()) throw std::logic_error("stock of " + product_id + " was never locked");
  it->second.level = level;
  changed_.insert(product_id);
}

void StockBook::mark_deleted(const std::string& product_id) {
  if (const auto it = rows_.find(product_id); it != rows_.end()) it->second.deleted = true;
}

void StockBook::flush(soci::session& sql) {
  for (const auto& id : changed_) {
    const StockLevel& level = rows_.at(id).level;
    const std::string on_hand = std::to_string(level.on_hand);
    const std::string available = std::to_string(level.available);
    const std::string reserved = std::to_string(level.reserved);
    const std::string sold = std::to_string(level.sold);
    kSaveStock.run(sql, {&on_hand, &available, &reserved, &sold, &id});
  }
  changed_.clear();
}

void StockBook::clear() {
  rows_.clear();
  changed_.clear();
}

void ReservationBook::lock(soci::session& sql, const std::vector<std::string>& order_ids) {
  std::vector<std::string> wanted;
  for (const auto& id : order_ids) {
    std::string key = key_of(id);
    if (!held_.contains(key)) wanted.push_back(std::move(key));
  }
  if (wanted.empty()) return;
  const std::string ids = events::pg_text_array(wanted);
  const events::PreparedRows rows = kLockReservations.rows(wanted.size()).query(sql, {&ids});
  for (const auto& id : wanted) held_.try_emplace(id);  // none unless found below
  for (int i = 0; i < rows.size(); ++i) {
    const std::string order_id = rows.text(i, 0);
    const std::string status = rows.text(i, 1);
    const auto parsed = parse_status(status);
    if (!parsed) throw std::logic_error("reservation " + order_id + " has status " + status);
    ReservationRow row;
    row.status = *parsed;
    row.expires_at = TimePoint{std::chrono::milliseconds{rows.integer(i, 2)}};
    row.expires_at_text = rows.text(i, 3);
    row.release_reason = rows.text(i, 4);
    row.rejection = rows.text(i, 5);
    const std::string lines = rows.text(i, 6);
    std::string_view rest = lines;
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      const std::string_view line = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
      const auto space = line.find(' ');
      if (space == std::string_view::npos) {
        throw std::logic_error("reservation " + order_id + " has a malformed line");
      }
      row.lines.push_back(Line{std::string(line.substr(0, space)),
                               std::stoll(std::string(line.substr(space + 1)))});
    }
    held_[order_id].row = std::move(row);
  }
}

std::optional<ReservationRow> ReservationBook::find(soci::session& sql,
                                                    const std::string& order_id) {
  lock(sql, {order_id});
  return held_.at(key_of(order_id)).row;
}

ReservationBook::Held& ReservationBook::add(const std::string& id, ReservationRow row) {
  const std::string order_id = key_of(id);
  Held& held = held_[order_id];
  if (held.row) throw std::logic_error("order " + order_id + " has a reservation already");
  held.row = std::move(row);
  held.is_new = true;
  if (!held.dirty) {
    held.dirty = true;
    dirty_.push_back(order_id);
  }
  return held;
}

void ReservationBook::add_active(const std::string& order_id, const std::vector<Line>& lines,
                                 TimePoint expires_at, const std::string& expires_at_text) {
  add(order_id, ReservationRow{.status = ReservationStatus::active,
                               .lines = lines,
                               .expires_at = expires_at,
                               .expires_at_text = expires_at_text,
                               .release_reason = {},
                               .rejection = {}});
}

void ReservationBook::add_rejected(const std::string& order_id, const std::string& rejection_json) {
  add(order_id, ReservationRow{.status = ReservationStatus::rejected,
                               .lines = {},
                               .expires_at = {},
                               .expires_at_text = {},
                               .release_reason = {},
                               .rejection = rejection_json});
}

void ReservationBook::add_tombstone(const std::string& order_id, const std::string& reason) {
  add(order_id, ReservationRow{.status = ReservationStatus::released,
                               .lines = {},
                               .expires_at = {},
                               .expires_at_text = {},
                               .release_reason = reason,
                               .rejection = {}});
}

void ReservationBook::set_status(const std::string& id, ReservationStatus status,
                                 const std::string& reason) {
  const std::string order_id = key_of(id);
  const auto it = held_.find(order_id);
  if (it == held_.end() || !it->second.row) {
    throw std::logic_error("reservation " + order_id + " was never locked");
  }
  Held& held = it->second;
  held.row->status = status;
  if (status == ReservationStatus::released || status == ReservationStatus::expired) {
    held.row->release_reason = reason;
  }
  if (!held.dirty) {
    held.dirty = true;
    dirty_.push_back(order_id);
  }
}

void ReservationBook::flush(soci::session& sql) {
  if (dirty_.empty()) return;
  boost::json::array reservations;
  boost::json::array lines;
  for (const auto& order_id : dirty_) {
    Held& held = held_.at(order_id);
    const ReservationRow& row = *held.row;
    boost::json::object r{
        {"order_id", order_id},  {"new", held.is_new},        {"status", to_string(row.status)},
        {"expires_at", nullptr}, {"release_reason", nullptr}, {"rejection", nullptr}};
    if (!row.expires_at_text.empty()) r["expires_at"] = row.expires_at_text;
    if (!row.release_reason.empty()) r["release_reason"] = row.release_reason;
    if (!row.rejection.empty()) r["rejection"] = boost::json::parse(row.rejection);
    reservations.push_back(std::move(r));
    if (held.is_new) {
      for (const auto& line : row.lines) {
        lines.push_back(boost::json::object{
            {"order_id", order_id}, {"product_id", line.product_id}, {"quantity", line.quantity}});
      }
    }
    held.is_new = false;
    held.dirty = false;
  }
  dirty_.clear();
  const std::string reservations_json = boost::json::serialize(reservations);
  const std::string lines_json = boost::json::serialize(lines);
  kFlushReservations.rows(reservations.size()).run(sql, {&reservations_json, &lines_json});
}

void ReservationBook::clear() {
  held_.clear();
  dirty_.clear();
}

std::vector<std::string> lock_expired_reservations(soci::session& sql, const std::string& now,
                                                   int limit) {
  std::vector<std::string> out;
  soci::rowset<std::string> rows =
      (sql.prepare << kLockExpired, soci::use(now, "now"), soci::use(limit, "limit"));
  for (const auto& id : rows) out.push_back(id);
  return out;
}

}  // namespace bazaar::inventory
