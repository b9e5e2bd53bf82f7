#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "order_record.hpp"
#include "pricing.hpp"

namespace soci {
class session;
}

namespace bazaar::order {

/// What a step does to an order's deadline.
struct DeadlineChange {
  enum class Mode { kKeep, kSet, kClear };
  Mode mode = Mode::kKeep;
  std::string at;  ///< RFC 3339, for kSet
};

/// One line of the step log (`saga_steps`).
struct StepEntry {
  std::string order_id;
  std::string at;  ///< RFC 3339
  std::string trigger;
  std::string from_status;
  std::string to_status;
  std::string commands;
  std::string note;
};

/// The orders of one transaction: read and locked once for all its records, changed in memory
/// record after record, and written back in one statement before the commit. A batch of saga
/// records used to run three statements each (the order, its lines, the update with its step).
///
/// A record sees what the records before it in the same transaction did to an order. Orders
/// are locked in ascending id, the order every transaction of this service takes them in, so
/// two instances sharing orders wait for each other instead of deadlocking. Everything held is
/// for one transaction only: clear() forgets it when the next begins (and after a rollback).
class OrderBook {
 public:
  /// Reads and locks the orders among `ids` the book does not hold yet, with their lines, in
  /// one statement; ids that name no order are remembered as unknown.
  void load(soci::session& sql, const std::vector<std::string>& ids);
  /// The order as this transaction left it; read and locked now when the book does not hold
  /// it. nullopt for an order that does not exist.
  std::optional<OrderRecord> find(soci::session& sql, const std::string& order_id);
  /// Reads the catalog prices of the products among `ids` the book does not hold yet.
  void load_prices(soci::session& sql, const std::vector<std::string>& ids);
  /// The price of a product loaded before; nullopt when the catalog never listed it.
  std::optional<KnownProduct> price(const std::string& product_id) const;

  /// A new order, inserted at the flush with its lines as it stands then.
  void add(const OrderRecord& order, const std::string& at);
  /// The order's saga state after a step (its token, payment window and saga), `at` its time.
  void change(const OrderRecord& after, const DeadlineChange& deadline, const std::string& at);
  /// A line of the step log, written at the flush in the order given.
  void log(StepEntry step);
  /// Lets `adjust` change the refund amounts of an order held (the statement that changed
  /// them in the database ran already); nothing when it is not held.
  template <typename Adjust>
  void adjust(const std::string& order_id, Adjust adjust) {
    const auto it = orders_.find(key_of(order_id));
    if (it != orders_.end() && it->second.record) adjust(*it->second.record);
  }

  /// Writes every new order, changed order and step as one statement; nothing when there are
  /// none. The book still holds the orders (locked), now as written.
  void flush(soci::session& sql);
  /// Forgets everything: a transaction begins.
  void clear();

 private:
  struct Held {
    std::optional<OrderRecord> record;
    bool is_new = false;  ///< not in the database yet
    bool dirty = false;   ///< changed since the last flush
    DeadlineChange deadline;
    std::string created_at;  ///< of a new order
    std::string updated_at;
  };
  static std::string key_of(const std::string& id);
  Held& touch(const std::string& order_id);

  std::map<std::string, Held> orders_;
  std::vector<std::string> dirty_;  ///< in the order first changed
  std::map<std::string, std::optional<KnownProduct>> prices_;
  std::vector<StepEntry> steps_;
};

}  // namespace bazaar::order
