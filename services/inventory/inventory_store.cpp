#include "inventory_store.hpp"

#include <soci/soci.h>

#include <stdexcept>

#include "events/db.hpp"

namespace bazaar::inventory {
namespace {

// ORDER BY under FOR UPDATE locks the rows in that order: every transaction of the service
// takes stock locks by ascending product id, so none waits for another in a cycle.
constexpr const char* kLockStock = R"sql(
SELECT product_id::text, COALESCE(seller_id::text, ''), on_hand, available, reserved, sold,
       CASE WHEN deleted_at IS NULL THEN 0 ELSE 1 END
FROM stock
WHERE product_id = ANY(CAST(:ids AS uuid[]))
ORDER BY product_id
FOR UPDATE)sql";

constexpr const char* kSaveStock = R"sql(
UPDATE stock
SET on_hand = :on_hand, available = :available, reserved = :reserved, sold = :sold,
    updated_at = now()
WHERE product_id = CAST(:product_id AS uuid))sql";

constexpr const char* kLockReservation = R"sql(
SELECT status,
       COALESCE((extract(epoch FROM expires_at) * 1000)::bigint, 0),
       COALESCE(to_char(expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), ''),
       COALESCE(release_reason, ''),
       COALESCE(rejection::text, '')
FROM reservations
WHERE order_id = CAST(:order_id AS uuid)
FOR UPDATE)sql";

constexpr const char* kReservationLines = R"sql(
SELECT order_id::text, product_id::text, quantity
FROM reservation_lines
WHERE order_id = ANY(CAST(:ids AS uuid[]))
ORDER BY order_id, product_id)sql";

constexpr const char* kInsertActive = R"sql(
INSERT INTO reservations (order_id, status, expires_at)
VALUES (CAST(:order_id AS uuid), 'ACTIVE', CAST(:expires_at AS timestamptz)))sql";

constexpr const char* kInsertLine = R"sql(
INSERT INTO reservation_lines (order_id, product_id, quantity)
VALUES (CAST(:order_id AS uuid), CAST(:product_id AS uuid), :quantity))sql";

constexpr const char* kInsertRejected = R"sql(
INSERT INTO reservations (order_id, status, rejection)
VALUES (CAST(:order_id AS uuid), 'REJECTED', CAST(:rejection AS jsonb)))sql";

constexpr const char* kInsertTombstone = R"sql(
INSERT INTO reservations (order_id, status, release_reason)
VALUES (CAST(:order_id AS uuid), 'RELEASED', :reason))sql";

constexpr const char* kSetStatus = R"sql(
UPDATE reservations
SET status = :status,
    release_reason = CASE WHEN :status2 IN ('RELEASED', 'EXPIRED') THEN :reason
                          ELSE release_reason END,
    updated_at = now()
WHERE order_id = CAST(:order_id AS uuid))sql";

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
  soci::rowset<soci::row> rows = (sql.prepare << kLockStock, soci::use(ids, "ids"));
  for (const auto& r : rows) {
    StockRow row;
    row.seller_id = r.get<std::string>(1);
    row.level.on_hand = r.get<long long>(2);
    row.level.available = r.get<long long>(3);
    row.level.reserved = r.get<long long>(4);
    row.level.sold = r.get<long long>(5);
    row.deleted = r.get<int>(6) != 0;
    out.emplace(r.get<std::string>(0), std::move(row));
  }
  return out;
}

void save_stock(soci::session& sql, const std::string& product_id, const StockLevel& level) {
  if (!is_consistent(level)) {
    throw std::logic_error("stock of " + product_id + " would not be conserved");
  }
  sql << kSaveStock, soci::use(level.on_hand, "on_hand"), soci::use(level.available, "available"),
      soci::use(level.reserved, "reserved"), soci::use(level.sold, "sold"),
      soci::use(product_id, "product_id");
}

std::optional<ReservationRow> lock_reservation(soci::session& sql, const std::string& order_id) {
  std::string status;
  long long expires_ms = 0;
  ReservationRow row;
  sql << kLockReservation, soci::use(order_id, "order_id"), soci::into(status),
      soci::into(expires_ms), soci::into(row.expires_at_text), soci::into(row.release_reason),
      soci::into(row.rejection);
  if (!sql.got_data()) return std::nullopt;
  const auto parsed = parse_status(status);
  if (!parsed) throw std::logic_error("reservation " + order_id + " has status " + status);
  row.status = *parsed;
  row.expires_at = TimePoint{std::chrono::milliseconds{expires_ms}};
  auto lines = reservation_lines(sql, {order_id});
  if (auto it = lines.find(order_id); it != lines.end()) row.lines = std::move(it->second);
  return row;
}

void insert_active_reservation(soci::session& sql, const std::string& order_id,
                               const std::vector<Line>& lines, const std::string& expires_at) {
  sql << kInsertActive, soci::use(order_id, "order_id"), soci::use(expires_at, "expires_at");
  // Filled in for each line before the prepared statement runs again.
  std::string product_id;
  long long quantity = 0;
  soci::statement insert = (sql.prepare << kInsertLine, soci::use(order_id, "order_id"),
                            soci::use(product_id, "product_id"), soci::use(quantity, "quantity"));
  for (const auto& line : lines) {
    product_id = line.product_id;
    quantity = line.quantity;
    insert.execute(true);
  }
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
  sql << kSetStatus, soci::use(name, "status"), soci::use(name, "status2"),
      soci::use(reason, "reason"), soci::use(order_id, "order_id");
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
  soci::rowset<soci::row> rows = (sql.prepare << kReservationLines, soci::use(ids, "ids"));
  for (const auto& r : rows) {
    out[r.get<std::string>(0)].push_back(Line{r.get<std::string>(1), r.get<long long>(2)});
  }
  return out;
}

}  // namespace bazaar::inventory
