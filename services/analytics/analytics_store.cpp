#include "analytics_store.hpp"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "analytics_rules.hpp"
#include "events/db.hpp"

namespace bazaar::analytics {
namespace {

// Every statement runs for many events: each is prepared once per connection
// (events::PreparedStatement), its parameters passed as text.
using events::PreparedStatement;

const PreparedStatement kLockOrder{"analytics_lock_order",
                                   "SELECT status FROM orders WHERE order_id = CAST($1 AS uuid) "
                                   "FOR UPDATE"};

const PreparedStatement kInsertOrder{"analytics_insert_order", R"sql(
INSERT INTO orders (order_id, status, placed_at)
VALUES (CAST($1 AS uuid), $2, CAST(NULLIF($3, '') AS timestamptz)))sql"};

const PreparedStatement kUpdateOrder{"analytics_update_order", R"sql(
UPDATE orders
SET status = $2, placed_at = COALESCE(placed_at, CAST(NULLIF($3, '') AS timestamptz))
WHERE order_id = CAST($1 AS uuid))sql"};

// The saga's duration in ms, or -1 when the placement is unknown; no row at all when the
// order already had its outcome.
const PreparedStatement kOutcome{"analytics_outcome", R"sql(
UPDATE orders SET outcome_at = CAST($1 AS timestamptz)
WHERE order_id = CAST($2 AS uuid) AND outcome_at IS NULL
RETURNING COALESCE(CAST(extract(epoch FROM CAST($1 AS timestamptz) - placed_at) * 1000
                        AS double precision), -1))sql"};

const PreparedStatement kBucket{"analytics_bucket", R"sql(
INSERT INTO duration_buckets (bucket, count) VALUES (CAST($1 AS integer), 1)
ON CONFLICT (bucket) DO UPDATE SET count = duration_buckets.count + 1)sql"};

const PreparedStatement kConfirm{"analytics_confirm", R"sql(
UPDATE orders SET confirmed = true, currency = $2
WHERE order_id = CAST($1 AS uuid) AND NOT confirmed
RETURNING 1)sql"};

const PreparedStatement kRefundedSoFar{
    "analytics_refunded_so_far",
    "SELECT refunded FROM orders WHERE order_id = CAST($1 AS uuid) FOR UPDATE"};
const PreparedStatement kSetRefunded{
    "analytics_set_refunded",
    "UPDATE orders SET refunded = CAST($2 AS bigint) WHERE order_id = CAST($1 AS uuid)"};

const PreparedStatement kIsConfirmed{
    "analytics_is_confirmed",
    "SELECT 1 FROM orders WHERE order_id = CAST($1 AS uuid) AND confirmed"};

// Every line of a sale in one statement.
const PreparedStatement kSaleLines{"analytics_sale_lines", R"sql(
INSERT INTO sale_lines (order_id, line_no, product_id, seller_id, name, quantity, amount)
SELECT CAST($1 AS uuid), CAST(l.no AS integer) - 1, l.product_id, CAST(NULLIF(l.seller, '') AS uuid),
       l.name, l.quantity, l.amount
FROM unnest(CAST($2 AS uuid[]), CAST($3 AS text[]), CAST($4 AS text[]), CAST($5 AS bigint[]),
            CAST($6 AS bigint[])) WITH ORDINALITY AS l (product_id, seller, name, quantity, amount, no)
ON CONFLICT (order_id, line_no) DO NOTHING)sql"};

const PreparedStatement kSoldLines{"analytics_sold_lines", R"sql(
SELECT CAST(product_id AS text), COALESCE(CAST(seller_id AS text), ''), name, quantity, amount
FROM sale_lines WHERE order_id = CAST($1 AS uuid) ORDER BY line_no)sql"};

const PreparedStatement kSalesRow{"analytics_sales_row", R"sql(
INSERT INTO daily_sales AS s (day, grp, dim, currency, name, seller_id, orders, units, gross,
                              refunded)
VALUES (CAST($1 AS date), $2, $3, $4, NULLIF($5, ''), CAST(NULLIF($6, '') AS uuid),
        CAST($7 AS bigint), CAST($8 AS bigint), CAST($9 AS bigint), CAST($10 AS bigint))
ON CONFLICT (day, grp, dim, currency) DO UPDATE
SET orders = s.orders + EXCLUDED.orders, units = s.units + EXCLUDED.units,
    gross = s.gross + EXCLUDED.gross, refunded = s.refunded + EXCLUDED.refunded,
    name = COALESCE(EXCLUDED.name, s.name), seller_id = COALESCE(EXCLUDED.seller_id, s.seller_id))sql"};

const PreparedStatement kProductSales{"analytics_product_sales", R"sql(
INSERT INTO product_sales AS p (product_id, currency, seller_id, name, orders, units, gross,
                                refunded)
VALUES (CAST($1 AS uuid), $2, CAST(NULLIF($3, '') AS uuid), $4, CAST($5 AS bigint),
        CAST($6 AS bigint), CAST($7 AS bigint), CAST($8 AS bigint))
ON CONFLICT (product_id, currency) DO UPDATE
SET orders = p.orders + EXCLUDED.orders, units = p.units + EXCLUDED.units,
    gross = p.gross + EXCLUDED.gross, refunded = p.refunded + EXCLUDED.refunded,
    name = CASE WHEN EXCLUDED.name = '' THEN p.name ELSE EXCLUDED.name END,
    seller_id = COALESCE(EXCLUDED.seller_id, p.seller_id))sql"};

const PreparedStatement kKeepRefund{"analytics_keep_refund", R"sql(
INSERT INTO pending_refunds (event_id, order_id, day, amount, currency)
VALUES (CAST($1 AS uuid), CAST($2 AS uuid), CAST($3 AS date), CAST($4 AS bigint), $5)
ON CONFLICT (event_id) DO NOTHING)sql"};

const PreparedStatement kTakeRefunds{"analytics_take_refunds", R"sql(
DELETE FROM pending_refunds WHERE order_id = CAST($1 AS uuid)
RETURNING CAST(day AS text), amount, currency)sql"};

const PreparedStatement kFailure{"analytics_failure", R"sql(
INSERT INTO failure_reasons AS f (kind, reason, count) VALUES ($1, $2, 1)
ON CONFLICT (kind, reason) DO UPDATE SET count = f.count + 1)sql"};

const PreparedStatement kStockRejection{"analytics_stock_rejection", R"sql(
INSERT INTO products AS p (product_id, rejections) VALUES (CAST($1 AS uuid), 1)
ON CONFLICT (product_id) DO UPDATE SET rejections = p.rejections + 1)sql"};

// The previous level decides whether the stock-outs changed: only a move to or from zero does.
const PreparedStatement kLockLevel{"analytics_lock_level", R"sql(
SELECT COALESCE(available, -1) FROM products WHERE product_id = CAST($1 AS uuid) FOR UPDATE)sql"};

const PreparedStatement kLevel{"analytics_level", R"sql(
INSERT INTO products AS p (product_id, available) VALUES (CAST($1 AS uuid), CAST($2 AS bigint))
ON CONFLICT (product_id) DO UPDATE SET available = EXCLUDED.available)sql"};

const PreparedStatement kProduct{"analytics_product", R"sql(
INSERT INTO products AS p (product_id, name, seller_id)
VALUES (CAST($1 AS uuid), $2, CAST(NULLIF($3, '') AS uuid))
ON CONFLICT (product_id) DO UPDATE
SET name = EXCLUDED.name, seller_id = COALESCE(EXCLUDED.seller_id, p.seller_id))sql"};

const PreparedStatement kProductName{
    "analytics_product_name",
    "SELECT COALESCE(name, '') FROM products WHERE product_id = CAST($1 AS uuid)"};

const PreparedStatement kCounts{"analytics_counts", R"sql(
INSERT INTO counters AS c (metric, name, count)
SELECT * FROM unnest(CAST($1 AS text[]), CAST($2 AS text[]), CAST($3 AS bigint[]))
ON CONFLICT (metric, name) DO UPDATE SET count = c.count + EXCLUDED.count)sql"};

// Takes the row locks (a no-op update when the mark exists): see the class comment.
const PreparedStatement kDirty{"analytics_dirty", R"sql(
INSERT INTO dirty_metrics (metric) SELECT unnest(CAST($1 AS text[]))
ON CONFLICT (metric) DO UPDATE SET metric = EXCLUDED.metric)sql"};

}  // namespace

void AnalyticsStore::order_status(const std::string& order_id, const std::string& status,
                                  const std::string& placed_at) {
  const events::PreparedRows locked = kLockOrder.query(sql_, {&order_id});
  if (locked.empty()) {
    kInsertOrder.run(sql_, {&order_id, &status, &placed_at});
    count("conversion", "orders");
    count("orders_by_status", status);
    return;
  }
  const std::string previous = locked.text(0, 0);
  kUpdateOrder.run(sql_, {&order_id, &status, &placed_at});
  if (previous == status) return;
  count("orders_by_status", previous, -1);
  count("orders_by_status", status);
}

void AnalyticsStore::order_outcome(const std::string& order_id, const std::string& at) {
  const events::PreparedRows outcome = kOutcome.query(sql_, {&at, &order_id});
  if (outcome.empty()) return;
  const double ms = std::stod(outcome.text(0, 0));
  if (ms < 0) return;
  const std::string bucket = std::to_string(duration_bucket(ms));
  kBucket.run(sql_, {&bucket});
  dirty("saga_durations");
}

bool AnalyticsStore::confirm(const std::string& order_id, const std::string& currency) {
  return kConfirm.run(sql_, {&order_id, &currency}) > 0;
}

long long AnalyticsStore::refund_increment(const std::string& order_id, long long total) {
  const events::PreparedRows so_far = kRefundedSoFar.query(sql_, {&order_id});
  if (so_far.empty()) return 0;
  const long long before = so_far.integer(0, 0);
  if (total <= before) return 0;
  const std::string value = std::to_string(total);
  kSetRefunded.run(sql_, {&order_id, &value});
  return total - before;
}

bool AnalyticsStore::is_confirmed(const std::string& order_id) {
  return kIsConfirmed.run(sql_, {&order_id}) > 0;
}

void AnalyticsStore::add_sale(const std::string& order_id, const std::string& day,
                              const std::string& currency, long long total,
                              const std::vector<SaleLine>& lines) {
  long long units = 0;
  // One order counts once per product and per seller, however many lines it has of them.
  std::map<std::string, SaleLine> by_product;
  std::map<std::string, std::pair<long long, long long>> by_seller;  // units, amount
  std::vector<std::string> products, sellers, names;
  std::vector<long long> quantities, amounts;
  for (const SaleLine& l : lines) {
    products.push_back(l.product_id);
    sellers.push_back(l.seller_id);
    names.push_back(l.name);
    quantities.push_back(l.quantity);
    amounts.push_back(l.amount);
  }
  const std::string product_array = events::pg_text_array(products);
  const std::string seller_array = events::pg_text_array(sellers);
  const std::string name_array = events::pg_text_array(names);
  const std::string quantity_array = events::pg_int_array(quantities);
  const std::string amount_array = events::pg_int_array(amounts);
  kSaleLines.run(sql_, {&order_id, &product_array, &seller_array, &name_array, &quantity_array,
                        &amount_array});
  for (const SaleLine& l : lines) {
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
  const events::PreparedRows sold = kSoldLines.query(sql_, {&order_id});
  for (int i = 0; i < sold.size(); ++i) {
    lines.push_back({sold.text(i, 0), sold.text(i, 1), sold.text(i, 2), sold.integer(i, 3),
                     sold.integer(i, 4)});
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
  const std::string amount = std::to_string(refund.amount);
  kKeepRefund.run(sql_, {&event_id, &order_id, &refund.day, &amount, &refund.currency});
}

std::vector<Refund> AnalyticsStore::take_pending_refunds(const std::string& order_id) {
  std::vector<Refund> out;
  const events::PreparedRows taken = kTakeRefunds.query(sql_, {&order_id});
  for (int i = 0; i < taken.size(); ++i) {
    out.push_back({taken.text(i, 0), taken.integer(i, 1), taken.text(i, 2)});
  }
  return out;
}

void AnalyticsStore::count(const std::string& metric, const std::string& name, long long delta) {
  tally_.add(metric, name, delta);
}

void AnalyticsStore::count_failure(const std::string& kind, const std::string& reason) {
  const std::string key = reason_key(reason);
  kFailure.run(sql_, {&kind, &key});
  dirty("failure_reasons");
}

void AnalyticsStore::count_stock_rejection(const std::string& product_id) {
  kStockRejection.run(sql_, {&product_id});
  dirty("stock_outs");
}

void AnalyticsStore::stock_level(const std::string& product_id, long long available) {
  const events::PreparedRows level = kLockLevel.query(sql_, {&product_id});
  const long long previous = level.empty() ? -1 : level.integer(0, 0);
  const std::string value = std::to_string(available);
  kLevel.run(sql_, {&product_id, &value});
  if ((previous == 0) != (available == 0)) dirty("stock_outs");
}

void AnalyticsStore::product(const std::string& product_id, const std::string& name,
                             const std::string& seller_id) {
  kProduct.run(sql_, {&product_id, &name, &seller_id});
}

std::string AnalyticsStore::product_name(const std::string& product_id) {
  const events::PreparedRows found = kProductName.query(sql_, {&product_id});
  return found.empty() ? std::string{} : found.text(0, 0);
}

void AnalyticsStore::add_sales_row(const std::string& day, const std::string& grp,
                                   const std::string& dim, const std::string& currency,
                                   const std::string& name, const std::string& seller_id,
                                   long long orders, long long units, long long gross,
                                   long long refunded) {
  const std::string o = std::to_string(orders);
  const std::string u = std::to_string(units);
  const std::string g = std::to_string(gross);
  const std::string r = std::to_string(refunded);
  kSalesRow.run(sql_, {&day, &grp, &dim, &currency, &name, &seller_id, &o, &u, &g, &r});
}

void AnalyticsStore::add_product_sales(const std::string& product_id, const std::string& currency,
                                       const std::string& name, const std::string& seller_id,
                                       long long orders, long long units, long long gross,
                                       long long refunded) {
  const std::string o = std::to_string(orders);
  const std::string u = std::to_string(units);
  const std::string g = std::to_string(gross);
  const std::string r = std::to_string(refunded);
  kProductSales.run(sql_, {&product_id, &currency, &seller_id, &name, &o, &u, &g, &r});
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
    kCounts.run(sql, {&metric_array, &name_array, &deltas});
  }
  if (!dirty_.empty()) {
    const std::string marks =
        events::pg_text_array(std::vector<std::string>(dirty_.begin(), dirty_.end()));
    kDirty.run(sql, {&marks});
  }
  clear();
}

}  // namespace bazaar::analytics
