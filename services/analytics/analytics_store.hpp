#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace soci {
class session;
}

namespace bazaar::analytics {

/// One sold line of a confirmed order, in minor units of the order's currency.
struct SaleLine {
  std::string product_id;
  std::string seller_id;
  std::string name;
  long long quantity = 0;
  long long amount = 0;
};

/// A refund as counted against sales: on the UTC day it happened, in minor units.
struct Refund {
  std::string day;
  long long amount = 0;
  std::string currency;
};

/// What one change adds to a row of sales; an empty name or seller keeps the row's own.
struct SalesDelta {
  std::string name;
  std::string seller_id;
  long long orders = 0;
  long long units = 0;
  long long gross = 0;
  long long refunded = 0;

  /// Adds `later` to this; its name and seller, when given, replace these.
  void add(const SalesDelta& later);
};

/// The counter changes, sales, saga durations and dirty marks of one transaction, written
/// once just before it commits: the records of a batch move the same few rows again and again.
class Tally {
 public:
  void add(const std::string& metric, const std::string& name, long long delta);
  void mark(const std::string& metric);
  /// Adds to the sales of `dim` (a currency, product or seller: `grp`) on `day`.
  void daily_sales(const std::string& day, const std::string& grp, const std::string& dim,
                   const std::string& currency, const SalesDelta& delta);
  /// Adds to the all-time sales of a product.
  void product_sales(const std::string& product_id, const std::string& currency,
                     const SalesDelta& delta);
  /// Counts one saga in the histogram's `bucket`.
  void duration(int bucket);
  void clear();
  /// Writes the counters, the sales, the histogram, then the dirty marks, each in one
  /// statement and in key order (so two instances lock the rows alike); empties the tally.
  void flush(soci::session& sql);

 private:
  std::map<std::pair<std::string, std::string>, long long> counts_;
  std::map<std::tuple<std::string, std::string, std::string, std::string>, SalesDelta> daily_;
  std::map<std::pair<std::string, std::string>, SalesDelta> products_;
  std::map<int, long long> durations_;
  std::set<std::string> dirty_;
};

/// When something happened, as analytics writes it (RFC 3339) and computes with it.
struct Moment {
  std::string rfc3339;
  std::int64_t epoch_ms = 0;  ///< the same time, in ms after the epoch
};

/// An order as analytics keeps it (table `orders`).
struct OrderRow {
  std::string status;
  std::string placed_at;   ///< as the event or PostgreSQL wrote it; empty when unknown
  double placed_ms = 0;    ///< placed_at in ms since the epoch, when known
  std::string outcome_at;  ///< empty until the order's first outcome
  bool confirmed = false;
  std::string currency;    ///< empty until it confirms
  long long refunded = 0;  ///< the largest refunded total counted
};

/// The orders and stock levels one transaction reads and changes. Every record of an order
/// moves its row (five statuses, an outcome, a confirmation per saga), and a batch holds many
/// records of the same orders and products: each row is read and locked once (all of a batch's
/// up front by lock(), in ascending id, else on first use), changed here, and written once by
/// flush(), just before the commit.
class Ledger {
 public:
  /// Reads and locks the rows of these orders and products not read yet, each in ascending id.
  void lock(soci::session& sql, const std::vector<std::string>& order_ids,
            const std::vector<std::string>& product_ids);
  /// The order as this transaction left it; nullopt when analytics does not know it.
  std::optional<OrderRow> order(soci::session& sql, const std::string& order_id);
  /// The order's new row, written by flush(): inserted when order() found none (a second
  /// writer of the same new order then fails on the key, so no order counts twice).
  void save(const std::string& order_id, const OrderRow& row);
  /// The product's stock level as this transaction left it; -1 when unknown.
  long long available(soci::session& sql, const std::string& product_id);
  void save_available(const std::string& product_id, long long available);
  /// Writes the changed orders, then the changed levels, one statement each, in key order.
  void flush(soci::session& sql);
  /// Forgets every row (a new transaction).
  void clear();

 private:
  struct Order {
    std::optional<OrderRow> row;
    bool stored = false;  ///< the row exists in the table
    bool changed = false;
  };
  struct Level {
    long long available = -1;
    bool changed = false;
  };
  void read_orders(soci::session& sql, const std::vector<std::string>& ids);
  void read_levels(soci::session& sql, const std::vector<std::string>& ids);

  std::map<std::string, Order> orders_;  ///< by canonical id
  std::map<std::string, Level> levels_;  ///< by canonical id
};

/// The SQL of the aggregates, one function per change. Every function runs in the caller's
/// transaction; orders and stock levels go to the ledger, counters and dirty marks to the tally,
/// and both are written before the commit (the ledger first, the marks last), so the snapshot
/// publisher (which takes only unlocked dirty marks) never misses a change.
class AnalyticsStore {
 public:
  AnalyticsStore(soci::session& sql, Tally& tally, Ledger& ledger)
      : sql_(sql), tally_(tally), ledger_(ledger) {}

  /// Records that the order exists with `status` (new orders count once in conversion);
  /// `placed`, when given, is kept as its placement unless it had one. Moves orders_by_status.
  void order_status(const std::string& order_id, const std::string& status,
                    const std::optional<Moment>& placed = std::nullopt);
  /// The order's first outcome at `at`: its saga duration joins the
  /// histogram when its placement is known. Later outcomes (a cancellation after confirming) change
  /// nothing.
  void order_outcome(const std::string& order_id, const Moment& at);
  /// Marks the order confirmed; false when it already was (a second confirmation is no sale).
  bool confirm(const std::string& order_id, const std::string& currency);
  /// Adds a sale of `lines` on `day`: per currency, product and seller, and all-time.
  void add_sale(const std::string& order_id, const std::string& day, const std::string& currency,
                long long total, const std::vector<SaleLine>& lines);
  /// Counts a refund of a confirmed order against its sales, spread over its lines.
  void add_refund(const std::string& order_id, const Refund& refund);
  /// Keeps a refund of an order not (yet) confirmed; taken back by take_pending_refunds().
  void keep_pending_refund(const std::string& event_id, const std::string& order_id,
                           const Refund& refund);
  std::vector<Refund> take_pending_refunds(const std::string& order_id);
  bool is_confirmed(const std::string& order_id);
  /// What a PaymentRefunded reporting `total` refunded so far adds to what was counted for the
  /// order (0 for a repeat or an older total); remembers the new total.
  long long refund_increment(const std::string& order_id, long long total);

  void count(const std::string& metric, const std::string& name, long long delta = 1);
  void count_failure(const std::string& kind, const std::string& reason);
  void count_stock_rejection(const std::string& product_id);
  void stock_level(const std::string& product_id, long long available);
  void product(const std::string& product_id, const std::string& name,
               const std::string& seller_id);
  /// The product's name as the catalog last told it; empty when unknown.
  std::string product_name(const std::string& product_id);

 private:
  void dirty(const std::string& metric);

  soci::session& sql_;
  Tally& tally_;
  Ledger& ledger_;
};

}  // namespace bazaar::analytics
