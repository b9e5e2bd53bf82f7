#include "analytics_store.hpp"

#include <soci/soci.h>

#include <map>
#include <optional>
#include <set>
#include <utility>

#include "analytics_rules.hpp"
#include "events/db.hpp"

namespace bazaar::analytics {
namespace {

constexpr const char* kLockOrder =
    "SELECT status FROM orders WHERE order_id = CAST(:id AS uuid) FOR UPDATE";

constexpr const char* kInsertOrder = R"sql(
INSERT INTO orders (order_id, status, placed_at)
VALUES (CAST(:id AS uuid), :status, CAST(NULLIF(:placed_at, '') AS timestamptz)))sql";

constexpr const char* kUpdateOrder = R"sql(
UPDATE orders
SET status = :status,
    placed_at = COALESCE(placed_at, CAST(NULLIF(:placed_at, '') AS timestamptz))
WHERE order_id = CAST(:id AS uuid))sql";

// The saga's duration in ms, or NULL when the placement is unknown; nothing at all when the
// order already had its outcome.
constexpr const char* kOutcome = R"sql(
UPDATE orders SET outcome_at = CAST(:at AS timestamptz)
WHERE order_id = CAST(:id AS uuid) AND outcome_at IS NULL
RETURNING COALESCE(CAST(extract(epoch FROM CAST(:at_again AS timestamptz) - placed_at) * 1000
                        AS double precision), -1))sql";

constexpr const char* kBucket = R"sql(
INSERT INTO duration_buckets (bucket, count) VALUES (:bucket, 1)
ON CONFLICT (bucket) DO UPDATE SET count = duration_buckets.count + 1)sql";

constexpr const char* kConfirm = R"sql(
UPDATE orders SET confirmed = true, currency = :currency
WHERE order_id = CAST(:id AS uuid) AND NOT confirmed
RETURNING 1)sql";

constexpr const char* kRefundedSoFar =
    "SELECT refunded FROM orders WHERE order_id = CAST(:id AS uuid) FOR UPDATE";
constexpr const char* kSetRefunded =
    "UPDATE orders SET refunded = :total WHERE order_id = CAST(:id AS uuid)";

constexpr const char* kIsConfirmed =
    "SELECT CAST(count(*) AS bigint) FROM orders WHERE order_id = CAST(:id AS uuid) AND confirmed";

constexpr const char* kSaleLine = R"sql(
INSERT INTO sale_lines (order_id, line_no, product_id, seller_id, name, quantity, amount)
VALUES (CAST(:id AS uuid), :line_no, CAST(:product AS uuid), CAST(NULLIF(:seller, '') AS uuid),
        :name, :quantity, :amount)
ON CONFLICT (order_id, line_no) DO NOTHING)sql";

constexpr const char* kSaleLines = R"sql(
SELECT CAST(product_id AS text), COALESCE(CAST(seller_id AS text), ''), name, quantity, amount
FROM sale_lines WHERE order_id = CAST(:id AS uuid) ORDER BY line_no)sql";

constexpr const char* kSalesRow = R"sql(
INSERT INTO daily_sales AS s (day, grp, dim, currency, name, seller_id, orders, units, gross,
                              refunded)
VALUES (CAST(:day AS date), :grp, :dim, :currency, NULLIF(:name, ''),
        CAST(NULLIF(:seller, '') AS uuid), :orders, :units, :gross, :refunded)
ON CONFLICT (day, grp, dim, currency) DO UPDATE
SET orders = s.orders + EXCLUDED.orders, units = s.units + EXCLUDED.units,
    gross = s.gross + EXCLUDED.gross, refunded = s.refunded + EXCLUDED.refunded,
    name = COALESCE(EXCLUDED.name, s.name), seller_id = COALESCE(EXCLUDED.seller_id, s.seller_id))sql";

constexpr const char* kProductSales = R"sql(
INSERT INTO product_sales AS p (product_id, currency, seller_id, name, orders, units, gross,
                                refunded)
VALUES (CAST(:product AS uuid), :currency, CAST(NULLIF(:seller, '') AS uuid), :name, :orders,
        :units, :gross, :refunded)
ON CONFLICT (product_id, currency) DO UPDATE
SET orders = p.orders + EXCLUDED.orders, units = p.units + EXCLUDED.units,
    gross = p.gross + EXCLUDED.gross, refunded = p.refunded + EXCLUDED.refunded,
    name = CASE WHEN EXCLUDED.name = '' THEN p.name ELSE EXCLUDED.name END,
    seller_id = COALESCE(EXCLUDED.seller_id, p.seller_id))sql";

constexpr const char* kKeepRefund = R"sql(
INSERT INTO pending_refunds (event_id, order_id, day, amount, currency)
VALUES (CAST(:event AS uuid), CAST(:id AS uuid), CAST(:day AS date), :amount, :currency)
ON CONFLICT (event_id) DO NOTHING)sql";

constexpr const char* kTakeRefunds = R"sql(
DELETE FROM pending_refunds WHERE order_id = CAST(:id AS uuid)
RETURNING CAST(day AS text), amount, currency)sql";

constexpr const char* kFailure = R"sql(
INSERT INTO failure_reasons AS f (kind, reason, count) VALUES (:kind, :reason, 1)
ON CONFLICT (kind, reason) DO UPDATE SET count = f.count + 1)sql";

constexpr const char* kStockRejection = R"sql(
INSERT INTO products AS p (product_id, rejections) VALUES (CAST(:id AS uuid), 1)
ON CONFLICT (product_id) DO UPDATE SET rejections = p.rejections + 1)sql";

// The previous level decides whether the stock-outs changed: only a move to or from zero does.
constexpr const char* kLockLevel = R"sql(
SELECT COALESCE(available, -1) FROM products WHERE product_id = CAST(:id AS uuid) FOR UPDATE)sql";

constexpr const char* kLevel = R"sql(
INSERT INTO products AS p (product_id, available) VALUES (CAST(:id AS uuid), :available)
ON CONFLICT (product_id) DO UPDATE SET available = EXCLUDED.available)sql";

constexpr const char* kProduct = R"sql(
INSERT INTO products AS p (product_id, name, seller_id)
VALUES (CAST(:id AS uuid), :name, CAST(NULLIF(:seller, '') AS uuid))
ON CONFLICT (product_id) DO UPDATE
SET name = EXCLUDED.name, seller_id = COALESCE(EXCLUDED.seller_id, p.seller_id))sql";

constexpr const char* kProductName =
    "SELECT COALESCE(name, '') FROM products WHERE product_id = CAST(:id AS uuid)";

constexpr const char* kCounts = R"sql(
INSERT INTO counters AS c (metric, name, count)
SELECT * FROM unnest(CAST(:metrics AS text[]), CAST(:names AS text[]), CAST(:deltas AS bigint[]))
ON CONFLICT (metric, name) DO UPDATE SET count = c.count + EXCLUDED.count)sql";

// Takes the row locks (a no-op update when the mark exists): see the class comment.
constexpr const char* kDirty = R"sql(
INSERT INTO dirty_metrics (metric) SELECT unnest(CAST(:metrics AS text[]))
ON CONFLICT (metric) DO UPDATE SET metric = EXCLUDED.metric)sql";

}  // namespace

void AnalyticsStore::order_status(const std::string& order_id, const std::string& status,
                                  const std::string& placed_at) {
  std::string previous;
  soci::indicator ind = soci::i_null;
  sql_ << kLockOrder, soci::use(order_id, "id"), soci::into(previous, ind);
  if (!sql_.got_data()) {
    sql_ << kInsertOrder, soci::use(order_id, "id"), soci::use(status, "status"),
        soci::use(placed_at, "placed_at");
    count("conversion", "orders");
    count("orders_by_status", status);
    return;
  }
  sql_ << kUpdateOrder, soci::use(order_id, "id"), soci::use(status, "status"),
      soci::use(placed_at, "placed_at");
  if (previous == status) return;
  count("orders_by_status", previous, -1);
  count("orders_by_status", status);
}

void AnalyticsStore::order_outcome(const std::string& order_id, const std::string& at) {
  double ms = -1;
  sql_ << kOutcome, soci::use(at, "at"), soci::use(order_id, "id"), soci::use(at, "at_again"),
      soci::into(ms);
  if (!sql_.got_data() || ms < 0) return;
  const int bucket = duration_bucket(ms);
  sql_ << kBucket, soci::use(bucket, "bucket");
  dirty("saga_durations");
}

bool AnalyticsStore::confirm(const std::string& order_id, const std::string& currency) {
  int updated = 0;
  sql_ << kConfirm, soci::use(currency, "currency"), soci::use(order_id, "id"), soci::into(updated);
  return sql_.got_data();
}

long long AnalyticsStore::refund_increment(const std::string& order_id, long long total) {
  long long before = 0;
  sql_ << kRefundedSoFar, soci::use(order_id, "id"), soci::into(before);
  if (!sql_.got_data() || total <= before) return 0;
  sql_ << kSetRefunded, soci::use(total, "total"), soci::use(order_id, "id");
  return total - before;
}

bool AnalyticsStore::is_confirmed(const std::string& order_id) {
  long long n = 0;
  sql_ << kIsConfirmed, soci::use(order_id, "id"), soci::into(n);
  return n > 0;
}

void AnalyticsStore::add_sale(const std::string& order_id, const std::string& day,
                              const std::string& currency, long long total,
                              const std::vector<SaleLine>& lines) {
  long long units = 0;
  // One order counts once per product and per seller, however many lines it has of them.
  std::map<std::string, SaleLine> by_product;
  std::map<std::string, std::pair<long long, long long>> by_seller;  // units, amount
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const SaleLine& l = lines[i];
    int line_no = static_cast<int>(i);
    sql_ << kSaleLine, soci::use(order_id, "id"), soci::use(line_no, "line_no"),
        soci::use(l.product_id, "product"), soci::use(l.seller_id, "seller"),
        soci::use(l.name, "name"), soci::use(l.quantity, "quantity"), soci::use(l.amount, "amount");
    units += l.quantity;
    auto [p, fresh] = by_product.try_emplace(l.product_id, l);
    if (!fresh) {
      p->second.quantity += l.quantity;
      p->second.amount += l.amount;
    }
    auto& s = by_seller[l.seller_id];
    s.first += l.quantity;
    s.second += l.amount;
  }
  add_sales_row(day, "currency", currency, currency, "", "", 1, units, total, 0);
  for (const auto& [product_id, l] : by_product) {
    add_sales_row(day, "product", product_id, currency, l.name, l.seller_id, 1, l.quantity,
                  l.amount, 0);
    add_product_sales(product_id, currency, l.name, l.seller_id, 1, l.quantity, l.amount, 0);
  }
  for (const auto& [seller_id, s] : by_seller) {
    if (seller_id.empty()) continue;
    add_sales_row(day, "seller", seller_id, currency, "", seller_id, 1, s.first, s.second, 0);
  }
  dirty(sales_metric(day));
  dirty("sales_totals");
  dirty("top_products");
}

void AnalyticsStore::add_refund(const std::string& order_id, const Refund& refund) {
  if (refund.amount <= 0) return;
  std::vector<SaleLine> lines;
  {
    soci::rowset<soci::row> rows = (sql_.prepare << kSaleLines, soci::use(order_id, "id"));
    for (const auto& r : rows) {
      lines.push_back({r.get<std::string>(0), r.get<std::string>(1), r.get<std::string>(2),
                       r.get<long long>(3), r.get<long long>(4)});
    }
  }
  add_sales_row(refund.day, "currency", refund.currency, refund.currency, "", "", 0, 0, 0,
                refund.amount);
  std::vector<long long> amounts;
  for (const auto& l : lines) amounts.push_back(l.amount);
  const auto shares = allocate_refund(refund.amount, amounts);
  std::map<std::string, long long> by_product;
  std::map<std::string, long long> by_seller;
  std::map<std::string, const SaleLine*> line_of;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    by_product[lines[i].product_id] += shares[i];
    by_seller[lines[i].seller_id] += shares[i];
    line_of.try_emplace(lines[i].product_id, &lines[i]);
  }
  for (const auto& [product_id, share] : by_product) {
    const SaleLine& l = *line_of.at(product_id);
    add_sales_row(refund.day, "product", product_id, refund.currency, l.name, l.seller_id, 0, 0, 0,
                  share);
    add_product_sales(product_id, refund.currency, "", l.seller_id, 0, 0, 0, share);
  }
  for (const auto& [seller_id, share] : by_seller) {
    if (seller_id.empty()) continue;
    add_sales_row(refund.day, "seller", seller_id, refund.currency, "", seller_id, 0, 0, 0, share);
  }
  dirty(sales_metric(refund.day));
  dirty("sales_totals");
  dirty("top_products");
}

void AnalyticsStore::keep_pending_refund(const std::string& event_id, const std::string& order_id,
                                         const Refund& refund) {
  sql_ << kKeepRefund, soci::use(event_id, "event"), soci::use(order_id, "id"),
      soci::use(refund.day, "day"), soci::use(refund.amount, "amount"),
      soci::use(refund.currency, "currency");
}

std::vector<Refund> AnalyticsStore::take_pending_refunds(const std::string& order_id) {
  std::vector<Refund> out;
  soci::rowset<soci::row> rows = (sql_.prepare << kTakeRefunds, soci::use(order_id, "id"));
  for (const auto& r : rows) {
    out.push_back({r.get<std::string>(0), r.get<long long>(1), r.get<std::string>(2)});
  }
  return out;
}

void AnalyticsStore::count(const std::string& metric, const std::string& name, long long delta) {
  tally_.add(metric, name, delta);
}

void AnalyticsStore::count_failure(const std::string& kind, const std::string& reason) {
  const std::string key = reason_key(reason);
  sql_ << kFailure, soci::use(kind, "kind"), soci::use(key, "reason");
  dirty("failure_reasons");
}

void AnalyticsStore::count_stock_rejection(const std::string& product_id) {
  sql_ << kStockRejection, soci::use(product_id, "id");
  dirty("stock_outs");
}

void AnalyticsStore::stock_level(const std::string& product_id, long long available) {
  long long previous = -1;
  sql_ << kLockLevel, soci::use(product_id, "id"), soci::into(previous);
  if (!sql_.got_data()) previous = -1;
  sql_ << kLevel, soci::use(product_id, "id"), soci::use(available, "available");
  if ((previous == 0) != (available == 0)) dirty("stock_outs");
}

void AnalyticsStore::product(const std::string& product_id, const std::string& name,
                             const std::string& seller_id) {
  sql_ << kProduct, soci::use(product_id, "id"), soci::use(name, "name"),
      soci::use(seller_id, "seller");
}

std::string AnalyticsStore::product_name(const std::string& product_id) {
  std::string name;
  sql_ << kProductName, soci::use(product_id, "id"), soci::into(name);
  return sql_.got_data() ? name : std::string{};
}

void AnalyticsStore::add_sales_row(const std::string& day, const std::string& grp,
                                   const std::string& dim, const std::string& currency,
                                   const std::string& name, const std::string& seller_id,
                                   long long orders, long long units, long long gross,
                                   long long refunded) {
  sql_ << kSalesRow, soci::use(day, "day"), soci::use(grp, "grp"), soci::use(dim, "dim"),
      soci::use(currency, "currency"), soci::use(name, "name"), soci::use(seller_id, "seller"),
      soci::use(orders, "orders"), soci::use(units, "units"), soci::use(gross, "gross"),
      soci::use(refunded, "refunded");
}

void AnalyticsStore::add_product_sales(const std::string& product_id, const std::string& currency,
                                       const std::string& name, const std::string& seller_id,
                                       long long orders, long long units, long long gross,
                                       long long refunded) {
  sql_ << kProductSales, soci::use(product_id, "product"), soci::use(currency, "currency"),
      soci::use(seller_id, "seller"), soci::use(name, "name"), soci::use(orders, "orders"),
      soci::use(units, "units"), soci::use(gross, "gross"), soci::use(refunded, "refunded");
}

void AnalyticsStore::dirty(const std::string& metric) {
  tally_.mark(metric);
}

void Tally::add(const std::string& metric, const std::string& name, long long delta) {
  counts_[{metric, name}] += delta;
  dirty_.insert(metric);
}

void Tally::mark(const std::string& metric) {
  dirty_.insert(metric);
}

void Tally::clear() {
  counts_.clear();
  dirty_.clear();
}

void Tally::flush(soci::session& sql) {
  if (!counts_.empty()) {
    std::vector<std::string> metrics, names;
    std::vector<long long> changes;
    for (const auto& [key, delta] : counts_) {
      metrics.push_back(key.first);
      names.push_back(key.second);
      changes.push_back(delta);
    }
    const std::string deltas = events::pg_int_array(changes);
    const std::string metric_array = events::pg_text_array(metrics);
    const std::string name_array = events::pg_text_array(names);
    sql << kCounts, soci::use(metric_array, "metrics"), soci::use(name_array, "names"),
        soci::use(deltas, "deltas");
  }
  if (!dirty_.empty()) {
    const std::string marks =
        events::pg_text_array(std::vector<std::string>(dirty_.begin(), dirty_.end()));
    sql << kDirty, soci::use(marks, "metrics");
  }
  clear();
}

}  // namespace bazaar::analytics
