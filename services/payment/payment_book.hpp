#pragma once

#include <map>
#include <string>
#include <vector>

#include "payment_state.hpp"

namespace soci {
class session;
}

namespace bazaar::payment {

/// An order's payment as stored.
struct PaymentRow {
  PaymentStatus status = PaymentStatus::pending;
  std::string payment_id;  ///< empty until charged
  long long amount = 0;
  std::string currency;
  long long charged = 0;
  long long refunded = 0;
  std::string decline_reason;  ///< empty when none
  int last_attempt = 1;
};

/// The payments of one transaction: created when missing, read and locked once for all of a
/// batch's commands (ascending order id), changed in memory, and written back in one statement
/// before the commit. A charge used to run three statements of its own.
class PaymentBook {
 public:
  /// The row a command creates for an order that has none.
  struct Initial {
    std::string order_id;
    PaymentStatus status = PaymentStatus::pending;
    long long amount = 0;
    std::string currency;
  };
  /// Creates the missing rows of `wanted` (the first of one order counts) and reads and locks
  /// those the book does not hold yet, in ascending order id.
  void lock(soci::session& sql, const std::vector<Initial>& wanted);
  /// The order's payment as this transaction left it: created from `initial` when missing, and
  /// read and locked now when the book does not hold it.
  PaymentRow ensure(soci::session& sql, const Initial& initial);
  /// The payment after a command. `attempted`: it counts as a charge attempt; `charged` and
  /// `refunded` stamp when money moved.
  void write(const std::string& order_id, const PaymentRow& after, bool attempted, bool charged,
             bool refunded);
  /// Writes every changed payment in one statement, keeping them held.
  void flush(soci::session& sql);
  /// Forgets everything (a new transaction).
  void clear();

 private:
  struct Held {
    PaymentRow row;
    bool dirty = false;
    int attempts = 0;  ///< tried in this transaction, not yet written
    bool charged = false;
    bool refunded = false;
  };
  std::map<std::string, Held> held_;
  std::vector<std::string> dirty_;  ///< in the order first changed
};

}  // namespace bazaar::payment
