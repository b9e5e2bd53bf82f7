#pragma once

#include <map>
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

/// The SQL of the aggregates, one function per change. Every function runs in the caller's
/// transaction; counters and dirty marks go to the tally, which writes them before the commit,
/// the marks after the changes, so the snapshot publisher (which takes only unlocked dirty
/// marks) never misses a change.
class AnalyticsStore {
 public:
  AnalyticsStore(soci::session& sql, Tally& tally) : sql_(sql), tally_(tally) {}

  /// Records that the order exists with `status` (new orders count once in conversion);
  /// `placed_at` (RFC 3339) is kept when given and none was. Moves orders_by_status.
  void order_status(const std::string& order_id, const std::string& status,
                    const std::string& placed_at = {});
  /// The order's first outcome at `at`: its saga duration joins the histogram when its
  /// placement is known. Later outcomes (a cancellation after confirming) change nothing.
  void order_outcome(const std::string& order_id, const std::string& at);
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
};

}  // namespace bazaar::analytics
