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

/// The reservations of one transaction, like StockBook for stock: every reservation a batch
/// names is read with its lines and locked (ascending order id) in one statement, its records
/// change them in memory, and flush() writes the new and changed ones in one statement before
/// the commit. A reservation used to cost five statements over its life (its lookup and lines
/// twice, its insert, its lines' insert, its status).
class ReservationBook {
 public:
  /// Reads and locks the reservations of `order_ids` the book does not hold yet, with their
  /// lines; an order with none is remembered as such.
  void lock(soci::session& sql, const std::vector<std::string>& order_ids);
  /// The order's reservation as this transaction left it (read and locked now when not held);
  /// nullopt when the order has none.
  std::optional<ReservationRow> find(soci::session& sql, const std::string& order_id);
  /// A new reservation holding `lines` until `expires_at` (`expires_at_text`, RFC 3339).
  void add_active(const std::string& order_id, const std::vector<Line>& lines, TimePoint expires_at,
                  const std::string& expires_at_text);
  /// A refused ReserveStock with the StockRejected payload it answered (JSON text).
  void add_rejected(const std::string& order_id, const std::string& rejection_json);
  /// A release for an order that has no reservation, so a late ReserveStock cannot hold stock
  /// for an order already compensated.
  void add_tombstone(const std::string& order_id, const std::string& reason);
  /// Moves a held reservation to `status`, keeping `reason` when it is a release or an expiry.
  /// Throws std::logic_error for one the book does not hold.
  void set_status(const std::string& order_id, ReservationStatus status, const std::string& reason);
  /// Writes every new and changed reservation (new ones with their lines) in one statement,
  /// keeping them held.
  void flush(soci::session& sql);
  /// Forgets everything (a new transaction).
  void clear();

 private:
  struct Held {
    std::optional<ReservationRow> row;
    bool is_new = false;
    bool dirty = false;
  };
  Held& add(const std::string& order_id, ReservationRow row);

  std::map<std::string, Held> held_;
  std::vector<std::string> dirty_;  ///< in the order first changed
};

/// Locks and returns up to `limit` active reservations past `now` (RFC 3339), skipping those
/// another instance holds, oldest deadline first.
std::vector<std::string> lock_expired_reservations(soci::session& sql, const std::string& now,
                                                   int limit);

}  // namespace bazaar::inventory
