#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "reservation.hpp"
#include "reservation_lifecycle.hpp"
#include "stock_level.hpp"

namespace soci {
class session;
}

namespace bazaar::inventory {

/// A stock row as locked for an update.
struct StockRow {
  StockLevel level;
  std::string seller_id;  ///< empty when unknown
  bool deleted = false;
};

/// Locks the stock rows of `product_ids` with SELECT ... FOR UPDATE in product id order (the
/// one lock order of the service) and returns the rows that exist, by product id.
std::map<std::string, StockRow> lock_stock(soci::session& sql,
                                           const std::vector<std::string>& product_ids);

/// The stock rows of one transaction: each read and locked once (lock_stock), kept here while
/// the records of a batch move them, and written once just before the commit. A batch of
/// reservations of one product used to read and write the same row for every record.
class StockBook {
 public:
  /// The rows of `product_ids` that exist, locked: those not yet here are read with
  /// lock_stock(); those here are returned as this transaction left them.
  std::map<std::string, StockRow> lock(soci::session& sql,
                                       const std::vector<std::string>& product_ids);
  /// A product's new level, written by flush(). Throws std::logic_error for a level that is
  /// not conserved or a row lock() did not return.
  void save(const std::string& product_id, const StockLevel& level);
  /// The product was deleted in this transaction (its row was written directly).
  void mark_deleted(const std::string& product_id);
  /// Writes every changed row once, in product order (the table's CHECKs apply), keeping the
  /// rows.
  void flush(soci::session& sql);
  /// Forgets every row (a new transaction).
  void clear();

 private:
  std::map<std::string, StockRow> rows_;
  std::set<std::string> changed_;
};

/// A reservation as locked for an update.
struct ReservationRow {
  ReservationStatus status = ReservationStatus::active;
  std::vector<Line> lines;      ///< sorted by product id
  TimePoint expires_at{};       ///< meaningful while active
  std::string expires_at_text;  ///< RFC 3339 UTC, as StockReserved carries it
  std::string release_reason;
  std::string rejection;  ///< the StockRejected payload, as JSON text
};

/// Locks an order's reservation with SELECT ... FOR UPDATE and reads its lines; nullopt when
/// the order has none.
std::optional<ReservationRow> lock_reservation(soci::session& sql, const std::string& order_id);

/// Records a new reservation and its lines. `expires_at` is RFC 3339.
void insert_active_reservation(soci::session& sql, const std::string& order_id,
                               const std::vector<Line>& lines, const std::string& expires_at);

/// Records a refused ReserveStock with the StockRejected payload it answered.
void insert_rejected_reservation(soci::session& sql, const std::string& order_id,
                                 const std::string& rejection_json);

/// Records a release for an order that has no reservation, so a late ReserveStock cannot
/// hold stock for an order already compensated.
void insert_released_tombstone(soci::session& sql, const std::string& order_id,
                               const std::string& reason);

/// Moves a reservation to `status`, keeping `reason` when it is a release.
void set_reservation_status(soci::session& sql, const std::string& order_id,
                            ReservationStatus status, const std::string& reason);

/// Locks the reservations of `order_ids` that exist, in ascending order id (a batch's first
/// locks: see InventoryHandler::lock_ahead).
void lock_reservations(soci::session& sql, const std::vector<std::string>& order_ids);

/// Locks and returns up to `limit` active reservations past `now` (RFC 3339), skipping those
/// another instance holds, oldest deadline first.
std::vector<std::string> lock_expired_reservations(soci::session& sql, const std::string& now,
                                                   int limit);

/// The lines of several reservations, by order id.
std::map<std::string, std::vector<Line>> reservation_lines(
    soci::session& sql, const std::vector<std::string>& order_ids);

}  // namespace bazaar::inventory
