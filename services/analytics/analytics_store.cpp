#include "analytics_store.hpp"

#include <algorithm>
#include <cctype>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "analytics_rules.hpp"
#include "events/db.hpp"
#include "events/uuid.hpp"

namespace bazaar::analytics {
namespace {

// Every statement runs for many events: each is prepared once per connection
// (events::PreparedStatement), its parameters passed as text.
using events::PreparedStatement;

// One spelling per id: a statement may not change a row twice.
std::string lowercase(std::string id) {
  std::transform(id.begin(), id.end(), id.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return id;
}

// A uuid in the spelling PostgreSQL prints, so that ids given and ids read back meet.
std::string canonical(const std::string& id) {
  const auto uuid = events::Uuid::parse(id);
  return uuid ? uuid->str() : lowercase(id);
}

// The orders of a transaction (Ledger), read and locked in key order. The times are read as
// text only to tell whether they are set: a stored one is never written back from it. placed_at
// in ms after the epoch is exact for the ms-precision times analytics writes. Planned on every run
// for several orders (events::BatchStatement): a generic plan made while the table was small
// scanned it.
const events::BatchStatement kLockOrders{"analytics_lock_orders", R"sql(
SELECT CAST(order_id AS text), status, CAST(placed_at AS text),
       CAST(extract(epoch FROM placed_at) * 1000 AS double precision), CAST(outcome_at AS text),
       CAST(confirmed AS integer), currency, refunded
FROM orders WHERE order_id = ANY(CAST($1 AS uuid[])) ORDER BY order_id FOR UPDATE)sql"};

// The changed orders of a transaction: rows it found are updated, new ones inserted (where two
// writers of one new order collide on the key, as separate inserts would). The placement and the
// outcome are set once: a stored value stays as it is.
const PreparedStatement kWriteOrders{"analytics_write_orders", R"sql(
WITH r AS (
  SELECT * FROM unnest(CAST($1 AS uuid[]), CAST($2 AS boolean[]), CAST($3 AS text[]),
                       CAST($4 AS text[]), CAST($5 AS text[]), CAST($6 AS boolean[]),
                       CAST($7 AS text[]), CAST($8 AS bigint[]))
    AS r (order_id, stored, status, placed_at, outcome_at, confirmed, currency, refunded)),
changed AS (
  UPDATE orders o
  SET status = r.status,
      placed_at = COALESCE(o.placed_at, CAST(NULLIF(r.placed_at, '') AS timestamptz)),
      outcome_at = COALESCE(o.outcome_at, CAST(NULLIF(r.outcome_at, '') AS timestamptz)),
      confirmed = r.confirmed,
      currency = NULLIF(r.currency, ''), refunded = r.refunded
  FROM r WHERE o.order_id = r.order_id AND r.stored)
INSERT INTO orders (order_id, status, placed_at, outcome_at, confirmed, currency, refunded)
SELECT r.order_id, r.status, CAST(NULLIF(r.placed_at, '') AS timestamptz),
       CAST(NULLIF(r.outcome_at, '') AS timestamptz), r.confirmed, NULLIF(r.currency, ''),
       r.refunded
FROM r WHERE NOT r.stored)sql"};

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

// A transaction's sales, one row per key in key order (Tally::flush).
const PreparedStatement kDailySales{"analytics_daily_sales", R"sql(
INSERT INTO daily_sales AS s (day, grp, dim, currency, name, seller_id, orders, units, gross,
                              refunded)
SELECT CAST(r.day AS date), r.grp, r.dim, r.currency,
       COALESCE(NULLIF(r.name, ''),
                CASE WHEN r.grp = 'product' THEN (SELECT NULLIF(k.name, '') FROM products k
                                                  WHERE k.product_id = CAST(r.dim AS uuid)) END),
       CAST(NULLIF(r.seller, '') AS uuid), r.orders, r.units, r.gross, r.refunded
FROM unnest(CAST($1 AS text[]), CAST($2 AS text[]), CAST($3 AS text[]), CAST($4 AS text[]),
            CAST($5 AS text[]), CAST($6 AS text[]), CAST($7 AS bigint[]), CAST($8 AS bigint[]),
            CAST($9 AS bigint[]), CAST($10 AS bigint[]))
     AS r (day, grp, dim, currency, name, seller, orders, units, gross, refunded)
ON CONFLICT (day, grp, dim, currency) DO UPDATE
SET orders = s.orders + EXCLUDED.orders, units = s.units + EXCLUDED.units,
    gross = s.gross + EXCLUDED.gross, refunded = s.refunded + EXCLUDED.refunded,
    name = COALESCE(EXCLUDED.name, s.name), seller_id = COALESCE(EXCLUDED.seller_id, s.seller_id))sql"};

const PreparedStatement kProductSales{"analytics_product_sales", R"sql(
INSERT INTO product_sales AS p (product_id, currency, seller_id, name, orders, units, gross,
                                refunded)
SELECT CAST(r.product AS uuid), r.currency, CAST(NULLIF(r.seller, '') AS uuid),
       COALESCE(NULLIF(r.name, ''), (SELECT k.name FROM products k
                                     WHERE k.product_id = CAST(r.product AS uuid)), ''),
       r.orders, r.units, r.gross, r.refunded
FROM unnest(CAST($1 AS text[]), CAST($2 AS text[]), CAST($3 AS text[]), CAST($4 AS text[]),
            CAST($5 AS bigint[]), CAST($6 AS bigint[]), CAST($7 AS bigint[]),
            CAST($8 AS bigint[]))
     AS r (product, currency, seller, name, orders, units, gross, refunded)
ON CONFLICT (product_id, currency) DO UPDATE
SET orders = p.orders + EXCLUDED.orders, units = p.units + EXCLUDED.units,
    gross = p.gross + EXCLUDED.gross, refunded = p.refunded + EXCLUDED.refunded,
    name = CASE WHEN EXCLUDED.name = '' THEN p.name ELSE EXCLUDED.name END,
    seller_id = COALESCE(EXCLUDED.seller_id, p.seller_id))sql"};

const PreparedStatement kDurations{"analytics_durations", R"sql(
INSERT INTO duration_buckets AS d (bucket, count)
SELECT * FROM unnest(CAST($1 AS integer[]), CAST($2 AS bigint[]))
ON CONFLICT (bucket) DO UPDATE SET count = d.count + EXCLUDED.count)sql"};

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

// The stock levels of a transaction (Ledger), read and locked in key order; written back in
// one upsert (a product analytics never heard of gets its row).
const PreparedStatement kLockLevels{"analytics_lock_levels", R"sql(
SELECT CAST(product_id AS text), available FROM products
WHERE product_id = ANY(CAST($1 AS uuid[])) ORDER BY product_id FOR UPDATE)sql"};

const PreparedStatement kWriteLevels{"analytics_write_levels", R"sql(
INSERT INTO products AS p (product_id, available)
SELECT * FROM unnest(CAST($1 AS uuid[]), CAST($2 AS bigint[]))
ON CONFLICT (product_id) DO UPDATE SET available = EXCLUDED.available)sql"};

// A product's name and seller; sales counted before analytics knew its name (its catalog event
// and the sale travel on different topics) take the name now. Returns how many sales rows did.
const PreparedStatement kProduct{"analytics_product", R"sql(
WITH product AS (
  INSERT INTO products AS p (product_id, name, seller_id)
  VALUES (CAST($1 AS uuid), $2, CAST(NULLIF($3, '') AS uuid))
  ON CONFLICT (product_id) DO UPDATE
  SET name = EXCLUDED.name, seller_id = COALESCE(EXCLUDED.seller_id, p.seller_id)),
all_time AS (
  UPDATE product_sales SET name = $2
  WHERE product_id = CAST($1 AS uuid) AND name = '' AND $2 <> '' RETURNING 1),
daily AS (
  UPDATE daily_sales SET name = $2
  WHERE grp = 'product' AND lower(dim) = CAST(CAST($1 AS uuid) AS text) AND name IS NULL
    AND $2 <> '' RETURNING 1)
SELECT (SELECT count(*) FROM all_time) + (SELECT count(*) FROM daily))sql"};

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
                                  const std::optional<Moment>& placed) {
  std::optional<OrderRow> row = ledger_.order(sql_, order_id);
  const std::string previous = row ? row->status : std::string{};
  if (!row) row.emplace();
  row->status = status;
  if (row->placed_at.empty() && placed) {
    row->placed_at = placed->rfc3339;
    row->placed_ms = static_cast<double>(placed->epoch_ms);
  }
  ledger_.save(order_id, *row);
  if (previous.empty()) {
    count("conversion", "orders");
    count("orders_by_status", status);
    return;
  }
  if (previous == status) return;
  count("orders_by_status", previous, -1);
  count("orders_by_status", status);
}

void AnalyticsStore::order_outcome(const std::string& order_id, const Moment& at) {
  std::optional<OrderRow> row = ledger_.order(sql_, order_id);
  if (!row || !row->outcome_at.empty()) return;
  row->outcome_at = at.rfc3339;
  ledger_.save(order_id, *row);
  if (row->placed_at.empty()) return;
  const double ms = static_cast<double>(at.epoch_ms) - row->placed_ms;
  if (ms < 0) return;
  tally_.duration(duration_bucket(ms));
  dirty("saga_durations");
}

bool AnalyticsStore::confirm(const std::string& order_id, const std::string& currency) {
  std::optional<OrderRow> row = ledger_.order(sql_, order_id);
  if (!row || row->confirmed) return false;
  row->confirmed = true;
  row->currency = currency;
  ledger_.save(order_id, *row);
  return true;
}

long long AnalyticsStore::refund_increment(const std::string& order_id, long long total) {
  std::optional<OrderRow> row = ledger_.order(sql_, order_id);
  if (!row || total <= row->refunded) return 0;
  const long long before = row->refunded;
  row->refunded = total;
  ledger_.save(order_id, *row);
  return total - before;
}

bool AnalyticsStore::is_confirmed(const std::string& order_id) {
  const std::optional<OrderRow> row = ledger_.order(sql_, order_id);
  return row && row->confirmed;
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
  tally_.daily_sales(day, "currency", currency, currency, {"", "", 1, units, total, 0});
  for (const auto& [product_id, l] : by_product) {
    const SalesDelta sold{l.name, l.seller_id, 1, l.quantity, l.amount, 0};
    tally_.daily_sales(day, "product", product_id, currency, sold);
    tally_.product_sales(product_id, currency, sold);
  }
  for (const auto& [seller_id, s] : by_seller) {
    if (seller_id.empty()) continue;
    tally_.daily_sales(day, "seller", seller_id, currency,
                       {"", seller_id, 1, s.first, s.second, 0});
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
  tally_.daily_sales(refund.day, "currency", refund.currency, refund.currency,
                     {"", "", 0, 0, 0, refund.amount});
  std::vector<long long> amounts;
  for (const auto& l : lines) amounts.push_back(l.amount);
  // The order's refunded total already counts this refund (refund_increment).
  const std::optional<OrderRow> order = ledger_.order(sql_, order_id);
  const long long before = order ? std::max(0LL, order->refunded - refund.amount) : 0;
  const auto shares = allocate_further_refund(before, refund.amount, amounts);
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
    tally_.daily_sales(refund.day, "product", product_id, refund.currency,
                       {l.name, l.seller_id, 0, 0, 0, share});
    tally_.product_sales(product_id, refund.currency, {"", l.seller_id, 0, 0, 0, share});
  }
  for (const auto& [seller_id, share] : by_seller) {
    if (seller_id.empty()) continue;
    tally_.daily_sales(refund.day, "seller", seller_id, refund.currency,
                       {"", seller_id, 0, 0, 0, share});
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
  // Each is a running total: the smaller came first, and its increment belongs to its day.
  std::stable_sort(out.begin(), out.end(),
                   [](const Refund& a, const Refund& b) { return a.amount < b.amount; });
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
  const long long previous = ledger_.available(sql_, product_id);
  ledger_.save_available(product_id, available);
  if ((previous == 0) != (available == 0)) dirty("stock_outs");
}

void AnalyticsStore::product(const std::string& product_id, const std::string& name,
                             const std::string& seller_id) {
  if (kProduct.query(sql_, {&product_id, &name, &seller_id}).integer(0, 0) > 0) {
    dirty("sales_totals");
    dirty("top_products");
  }
}

std::string AnalyticsStore::product_name(const std::string& product_id) {
  const events::PreparedRows found = kProductName.query(sql_, {&product_id});
  return found.empty() ? std::string{} : found.text(0, 0);
}

void AnalyticsStore::dirty(const std::string& metric) {
  tally_.mark(metric);
}

namespace {

// The ids of `ids` that `rows` does not hold yet, in their canonical spelling and ascending order
// (the order rows are locked in).
template <typename Rows>
std::vector<std::string> unread(const Rows& rows, const std::vector<std::string>& ids) {
  std::set<std::string> wanted;
  for (const std::string& id : ids) {
    std::string key = canonical(id);
    if (!rows.contains(key)) wanted.insert(std::move(key));
  }
  return {wanted.begin(), wanted.end()};
}

}  // namespace

void Ledger::lock(soci::session& sql, const std::vector<std::string>& order_ids,
                  const std::vector<std::string>& product_ids) {
  read_orders(sql, order_ids);
  read_levels(sql, product_ids);
}

void Ledger::read_orders(soci::session& sql, const std::vector<std::string>& ids) {
  const std::vector<std::string> wanted = unread(orders_, ids);
  if (wanted.empty()) return;
  const std::string array = events::pg_text_array(wanted);
  const events::PreparedRows rows = kLockOrders.rows(wanted.size()).query(sql, {&array});
  for (int i = 0; i < rows.size(); ++i) {
    OrderRow row{rows.text(i, 1),
                 rows.text(i, 2),
                 rows.null(i, 3) ? 0 : std::stod(rows.text(i, 3)),
                 rows.text(i, 4),
                 rows.integer(i, 5) != 0,
                 rows.text(i, 6),
                 rows.integer(i, 7)};
    orders_[canonical(rows.text(i, 0))] = Order{std::move(row), true, false};
  }
  for (const std::string& key : wanted) orders_.try_emplace(key);  // unknown so far
}

void Ledger::read_levels(soci::session& sql, const std::vector<std::string>& ids) {
  const std::vector<std::string> wanted = unread(levels_, ids);
  if (wanted.empty()) return;
  const std::string array = events::pg_text_array(wanted);
  const events::PreparedRows rows = kLockLevels.query(sql, {&array});
  for (int i = 0; i < rows.size(); ++i) {
    levels_[canonical(rows.text(i, 0))].available = rows.null(i, 1) ? -1 : rows.integer(i, 1);
  }
  for (const std::string& key : wanted) levels_.try_emplace(key);  // unknown so far
}

std::optional<OrderRow> Ledger::order(soci::session& sql, const std::string& order_id) {
  const std::string key = canonical(order_id);
  if (const auto it = orders_.find(key); it != orders_.end()) return it->second.row;
  read_orders(sql, {order_id});
  return orders_.at(key).row;
}

void Ledger::save(const std::string& order_id, const OrderRow& row) {
  Order& order = orders_[canonical(order_id)];
  order.row = row;
  order.changed = true;
}

long long Ledger::available(soci::session& sql, const std::string& product_id) {
  const std::string key = canonical(product_id);
  if (const auto it = levels_.find(key); it != levels_.end()) return it->second.available;
  read_levels(sql, {product_id});
  return levels_.at(key).available;
}

void Ledger::save_available(const std::string& product_id, long long available) {
  Level& level = levels_[canonical(product_id)];
  level.available = available;
  level.changed = true;
}

void Ledger::flush(soci::session& sql) {
  std::vector<std::string> ids, stored, statuses, placed, outcomes, confirmed, currencies;
  std::vector<long long> refunded;
  for (const auto& [id, order] : orders_) {
    if (!order.changed || !order.row) continue;
    const OrderRow& row = *order.row;
    ids.push_back(id);
    stored.emplace_back(order.stored ? "t" : "f");
    statuses.push_back(row.status);
    placed.push_back(row.placed_at);
    outcomes.push_back(row.outcome_at);
    confirmed.emplace_back(row.confirmed ? "t" : "f");
    currencies.push_back(row.currency);
    refunded.push_back(row.refunded);
  }
  if (!ids.empty()) {
    const std::vector<std::string> a{
        events::pg_text_array(ids),        events::pg_text_array(stored),
        events::pg_text_array(statuses),   events::pg_text_array(placed),
        events::pg_text_array(outcomes),   events::pg_text_array(confirmed),
        events::pg_text_array(currencies), events::pg_int_array(refunded)};
    kWriteOrders.run(sql, {&a[0], &a[1], &a[2], &a[3], &a[4], &a[5], &a[6], &a[7]});
  }
  std::vector<std::string> products;
  std::vector<long long> levels;
  for (const auto& [id, level] : levels_) {
    if (!level.changed) continue;
    products.push_back(id);
    levels.push_back(level.available);
  }
  if (!products.empty()) {
    const std::string product_array = events::pg_text_array(products);
    const std::string level_array = events::pg_int_array(levels);
    kWriteLevels.run(sql, {&product_array, &level_array});
  }
  // Written rows exist now and are as they were saved.
  for (auto& [id, order] : orders_) {
    if (order.changed && order.row) order.stored = true;
    order.changed = false;
  }
  for (auto& [id, level] : levels_) level.changed = false;
}

void Ledger::clear() {
  orders_.clear();
  levels_.clear();
}

void SalesDelta::add(const SalesDelta& later) {
  if (!later.name.empty()) name = later.name;
  if (!later.seller_id.empty()) seller_id = later.seller_id;
  orders += later.orders;
  units += later.units;
  gross += later.gross;
  refunded += later.refunded;
}

void Tally::add(const std::string& metric, const std::string& name, long long delta) {
  counts_[{metric, name}] += delta;
  dirty_.insert(metric);
}

void Tally::mark(const std::string& metric) {
  dirty_.insert(metric);
}

void Tally::daily_sales(const std::string& day, const std::string& grp, const std::string& dim,
                        const std::string& currency, const SalesDelta& delta) {
  daily_[{day, grp, dim, currency}].add(delta);
}

void Tally::product_sales(const std::string& product_id, const std::string& currency,
                          const SalesDelta& delta) {
  // One row per product whatever the spelling of its id: a statement may not change a row twice.
  products_[{lowercase(product_id), currency}].add(delta);
}

void Tally::duration(int bucket) {
  ++durations_[bucket];
}

void Tally::clear() {
  counts_.clear();
  daily_.clear();
  products_.clear();
  durations_.clear();
  dirty_.clear();
}

namespace {

// The sums of a map of sales rows as the columns of the flush statements.
struct SalesColumns {
  std::vector<std::string> names, sellers;
  std::vector<long long> orders, units, gross, refunded;

  void add(const SalesDelta& d) {
    names.push_back(d.name);
    sellers.push_back(d.seller_id);
    orders.push_back(d.orders);
    units.push_back(d.units);
    gross.push_back(d.gross);
    refunded.push_back(d.refunded);
  }
  std::vector<std::string> arrays() const {
    return {events::pg_text_array(names), events::pg_text_array(sellers),
            events::pg_int_array(orders), events::pg_int_array(units),
            events::pg_int_array(gross),  events::pg_int_array(refunded)};
  }
};

}  // namespace

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
  if (!daily_.empty()) {
    std::vector<std::string> days, groups, dims, currencies;
    SalesColumns columns;
    for (const auto& [key, delta] : daily_) {
      days.push_back(std::get<0>(key));
      groups.push_back(std::get<1>(key));
      dims.push_back(std::get<2>(key));
      currencies.push_back(std::get<3>(key));
      columns.add(delta);
    }
    const std::vector<std::string> a{events::pg_text_array(days), events::pg_text_array(groups),
                                     events::pg_text_array(dims),
                                     events::pg_text_array(currencies)};
    const std::vector<std::string> c = columns.arrays();
    kDailySales.run(sql, {&a[0], &a[1], &a[2], &a[3], &c[0], &c[1], &c[2], &c[3], &c[4], &c[5]});
  }
  if (!products_.empty()) {
    std::vector<std::string> products, currencies;
    SalesColumns columns;
    for (const auto& [key, delta] : products_) {
      products.push_back(key.first);
      currencies.push_back(key.second);
      columns.add(delta);
    }
    const std::string product_array = events::pg_text_array(products);
    const std::string currency_array = events::pg_text_array(currencies);
    const std::vector<std::string> c = columns.arrays();
    // The name and the seller go in the statement's own order of columns.
    kProductSales.run(sql,
                      {&product_array, &currency_array, &c[1], &c[0], &c[2], &c[3], &c[4], &c[5]});
  }
  if (!durations_.empty()) {
    std::vector<long long> buckets, counts;
    for (const auto& [bucket, n] : durations_) {
      buckets.push_back(bucket);
      counts.push_back(n);
    }
    const std::string bucket_array = events::pg_int_array(buckets);
    const std::string count_array = events::pg_int_array(counts);
    kDurations.run(sql, {&bucket_array, &count_array});
  }
  if (!dirty_.empty()) {
    const std::string marks =
        events::pg_text_array(std::vector<std::string>(dirty_.begin(), dirty_.end()));
    kDirty.run(sql, {&marks});
  }
  clear();
}

}  // namespace bazaar::analytics
