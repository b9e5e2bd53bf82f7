#include "inventory_store.hpp"

#include <soci/soci.h>

#include <stdexcept>

#include "events/db.hpp"

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

const events::PreparedStatement kLockReservation{"inventory_lock_reservation", R"sql(
SELECT status,
       COALESCE((extract(epoch FROM expires_at) * 1000)::bigint, 0),
       COALESCE(to_char(expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), ''),
       COALESCE(release_reason, ''),
       COALESCE(rejection::text, '')
FROM reservations
WHERE order_id = CAST($1 AS uuid)
FOR UPDATE)sql"};

const events::PreparedStatement kLockReservations{"inventory_lock_reservations", R"sql(
SELECT order_id FROM reservations
WHERE order_id = ANY(CAST($1 AS uuid[]))
ORDER BY order_id
FOR UPDATE)sql"};

const events::PreparedStatement kReservationLines{"inventory_reservation_lines", R"sql(
SELECT order_id::text, product_id::text, quantity
FROM reservation_lines
WHERE order_id = ANY(CAST($1 AS uuid[]))
ORDER BY order_id, product_id)sql"};

const events::PreparedStatement kInsertActive{"inventory_insert_active", R"sql(
INSERT INTO reservations (order_id, status, expires_at)
VALUES (CAST($1 AS uuid), 'ACTIVE', CAST($2 AS timestamptz)))sql"};

// Every line of a reservation in one statement.
const events::PreparedStatement kInsertLines{"inventory_insert_lines", R"sql(
INSERT INTO reservation_lines (order_id, product_id, quantity)
SELECT CAST($1 AS uuid), product_id, quantity
FROM unnest(CAST($2 AS uuid[]), CAST($3 AS bigint[])) AS l (product_id, quantity))sql"};

constexpr const char* kInsertRejected = R"sql(
INSERT INTO reservations (order_id, status, rejection)
VALUES (CAST(:order_id AS uuid), 'REJECTED', CAST(:rejection AS jsonb)))sql";

constexpr const char* kInsertTombstone = R"sql(
INSERT INTO reservations (order_id, status, release_reason)
VALUES (CAST(:order_id AS uuid), 'RELEASED', :reason))sql";

const events::PreparedStatement kSetStatus{"inventory_set_status", R"sql(
UPDATE reservations
SET status = $1,
    release_reason = CASE WHEN $1 IN ('RELEASED', 'EXPIRED') THEN $2 ELSE release_reason END,
    updated_at = now()
WHERE order_id = CAST($3 AS uuid))sql"};

// SKIP LOCKED: several instances scan at once, each taking reservations no other holds.
constexpr const char* kLockExpired = R"sql(
SELECT order_id::text
FROM reservations
WHERE status = 'ACTIVE' AND expires_at < CAST(:now AS timestamptz)
ORDER BY expires_at, order_id
LIMIT :limit
FOR UPDATE SKIP LOCKED)sql";

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

std::optional<ReservationRow> lock_reservation(soci::session& sql, const std::string& order_id) {
  const events::PreparedRows found = kLockReservation.query(sql, {&order_id});
  if (found.empty()) return std::nullopt;
  ReservationRow row;
  const std::string status = found.text(0, 0);
  const long long expires_ms = found.integer(0, 1);
  row.expires_at_text = found.text(0, 2);
  row.release_reason = found.text(0, 3);
  row.rejection = found.text(0, 4);
  const auto parsed = parse_status(status);
  if (!parsed) throw std::logic_error("reservation " + order_id + " has status " + status);
  row.status = *parsed;
  row.expires_at = TimePoint{std::chrono::milliseconds{expires_ms}};
  auto lines = reservation_lines(sql, {order_id});
  if (auto it = lines.find(order_id); it != lines.end()) row.lines = std::move(it->second);
  return row;
}

void lock_reservations(soci::session& sql, const std::vector<std::string>& order_ids) {
  if (order_ids.empty()) return;
  const std::string ids = events::pg_text_array(order_ids);
  kLockReservations.run(sql, {&ids});
}

void insert_active_reservation(soci::session& sql, const std::string& order_id,
                               const std::vector<Line>& lines, const std::string& expires_at) {
  kInsertActive.run(sql, {&order_id, &expires_at});
  std::vector<std::string> products;
  std::vector<long long> quantities;
  for (const auto& line : lines) {
    products.push_back(line.product_id);
    quantities.push_back(line.quantity);
  }
  const std::string product_array = events::pg_text_array(products);
  const std::string quantity_array = events::pg_int_array(quantities);
  kInsertLines.run(sql, {&order_id, &product_array, &quantity_array});
}

void insert_rejected_reservation(soci::session& sql, const std::string& order_id,
                                 const std::string& rejection_json) {
  sql << kInsertRejected, soci::use(order_id, "order_id"), soci::use(rejection_json, "rejection");
}

void insert_released_tombstone(soci::session& sql, const std::string& order_id,
                               const std::string& reason) {
  sql << kInsertTombstone, soci::use(order_id, "order_id"), soci::use(reason, "reason");
}

void set_reservation_status(soci::session& sql, const std::string& order_id,
                            ReservationStatus status, const std::string& reason) {
  const std::string name(to_string(status));
  kSetStatus.run(sql, {&name, &reason, &order_id});
}

std::vector<std::string> lock_expired_reservations(soci::session& sql, const std::string& now,
                                                   int limit) {
  std::vector<std::string> out;
  soci::rowset<std::string> rows =
      (sql.prepare << kLockExpired, soci::use(now, "now"), soci::use(limit, "limit"));
  for (const auto& id : rows) out.push_back(id);
  return out;
}

std::map<std::string, std::vector<Line>> reservation_lines(
    soci::session& sql, const std::vector<std::string>& order_ids) {
  std::map<std::string, std::vector<Line>> out;
  if (order_ids.empty()) return out;
  const std::string ids = events::pg_text_array(order_ids);
  const events::PreparedRows rows = kReservationLines.query(sql, {&ids});
  for (int i = 0; i < rows.size(); ++i) {
    out[rows.text(i, 0)].push_back(Line{rows.text(i, 1), rows.integer(i, 2)});
  }
  return out;
}

}  // namespace bazaar::inventory
