#include "snapshots.hpp"

#include <soci/soci.h>
#include <spdlog/spdlog.h>

#include <functional>
#include <map>
#include <set>

#include "analytics_rules.hpp"
#include "contracts/contracts.hpp"
#include "events/envelope.hpp"
#include "events/handler.hpp"
#include "events/outbox.hpp"

namespace bazaar::analytics {
namespace {

using Snapshot = contracts::analytics::StatsSnapshotV1;

// The statuses an order can have: orders_by_status lists each, zeros included.
constexpr const char* kStatuses[] = {"PLACED",       "AWAITING_STOCK", "AWAITING_PAYMENT",
                                     "COMPENSATING", "CONFIRMED",      "SHIPPED",
                                     "DELIVERED",    "REJECTED",       "CANCELLED"};
// Rows of one group in a day's sales snapshot: beyond it the largest by gross are kept, so a
// record stays far below the broker's 1 MB limit.
constexpr int kMaxRowsPerGroup = 1500;
constexpr int kTopProducts = 10;
constexpr int kTopStockOuts = 20;
constexpr int kMaxReasons = 50;

constexpr const char* kTakeDirty =
    "SELECT metric FROM dirty_metrics ORDER BY metric FOR UPDATE SKIP LOCKED";
constexpr const char* kDropDirty = "DELETE FROM dirty_metrics WHERE metric = :metric";
constexpr const char* kStale = R"sql(
SELECT metric FROM snapshots
WHERE published_at < now() - make_interval(secs => :refresh) ORDER BY metric)sql";
// A sequence starts at the publication time in ms, so it keeps growing across a rebuild of
// this database (a replay), and readers that keep the highest take the rebuilt snapshots.
constexpr const char* kNextSequence = R"sql(
INSERT INTO snapshots AS s (metric, sequence, published_at)
VALUES (:metric, CAST(extract(epoch FROM clock_timestamp()) * 1000 AS bigint), now())
ON CONFLICT (metric) DO UPDATE
SET sequence = GREATEST(s.sequence + 1, EXCLUDED.sequence), published_at = now()
RETURNING sequence)sql";

constexpr const char* kCounters =
    "SELECT name, count FROM counters WHERE metric = :metric ORDER BY name";
constexpr const char* kBuckets = "SELECT bucket, count FROM duration_buckets ORDER BY bucket";
constexpr const char* kReasons = R"sql(
SELECT kind, reason, count FROM failure_reasons ORDER BY count DESC, kind, reason
LIMIT :limit)sql";
constexpr const char* kOutOfStock =
    "SELECT CAST(count(*) AS bigint) FROM products WHERE available = 0";
constexpr const char* kStockOuts = R"sql(
SELECT CAST(product_id AS text), COALESCE(name, ''), rejections, COALESCE(available, -1)
FROM products WHERE rejections > 0 ORDER BY rejections DESC, product_id LIMIT :limit)sql";
constexpr const char* kTopProductsSql = R"sql(
SELECT CAST(product_id AS text), COALESCE(CAST(seller_id AS text), ''), name, currency, orders,
       units, gross, refunded
FROM product_sales ORDER BY units DESC, gross DESC, product_id LIMIT :limit)sql";
constexpr const char* kTotals = R"sql(
SELECT currency, CAST(SUM(orders) AS bigint), CAST(SUM(units) AS bigint),
       CAST(SUM(gross) AS bigint), CAST(SUM(refunded) AS bigint)
FROM daily_sales WHERE grp = 'currency' GROUP BY currency ORDER BY currency)sql";
// One day's rows, each group cut at its largest rows (the row number says where).
constexpr const char* kDay = R"sql(
SELECT grp, dim, currency, COALESCE(name, ''), COALESCE(CAST(seller_id AS text), ''), orders,
       units, gross, refunded, rank
FROM (SELECT *, CAST(row_number() OVER (PARTITION BY grp ORDER BY gross DESC, dim, currency)
                     AS bigint) AS rank
      FROM daily_sales WHERE day = CAST(:day AS date)) AS d
WHERE rank <= :limit + 1
ORDER BY grp, rank)sql";

void counts_of(soci::session& sql, const std::string& metric, Snapshot& s) {
  soci::rowset<soci::row> rows = (sql.prepare << kCounters, soci::use(metric, "metric"));
  for (const auto& r : rows) s.counts.push_back({r.get<std::string>(0), r.get<long long>(1)});
}

long long count_named(const Snapshot& s, const std::string& name) {
  for (const auto& c : s.counts) {
    if (c.name == name) return c.count;
  }
  return 0;
}

Snapshot::Sale sale_row(std::string group, std::string currency, long long orders, long long units,
                        long long gross, long long refunded) {
  Snapshot::Sale row;
  row.group = std::move(group);
  row.currency = std::move(currency);
  row.orders = orders;
  row.units = units;
  row.gross = gross;
  row.refunded = refunded;
  row.net = gross - refunded;
  return row;
}

void orders_by_status(soci::session& sql, Snapshot& s) {
  Snapshot counted;
  counts_of(sql, "orders_by_status", counted);
  for (const char* status : kStatuses) s.counts.push_back({status, count_named(counted, status)});
}

void conversion(soci::session& sql, Snapshot& s) {
  Snapshot counted;
  counts_of(sql, "conversion", counted);
  for (const char* name : {"orders", "confirmed", "rejected", "cancelled"}) {
    s.counts.push_back({name, count_named(counted, name)});
  }
  const long long orders = count_named(counted, "orders");
  const long long confirmed = count_named(counted, "confirmed");
  s.ratio = orders > 0 ? std::min(1.0, static_cast<double>(confirmed) / static_cast<double>(orders))
                       : 0.0;
}

void saga_durations(soci::session& sql, Snapshot& s) {
  std::map<int, long long> histogram;
  Snapshot::Durations d;
  soci::rowset<soci::row> rows = (sql.prepare << kBuckets);
  for (const auto& r : rows) {
    const int bucket = r.get<int>(0);
    const long long count = r.get<long long>(1);
    histogram[bucket] = count;
    d.count += count;
    d.buckets.push_back({bucket_upper_ms(bucket), count});
  }
  d.p50_ms = quantile(histogram, 0.50);
  d.p95_ms = quantile(histogram, 0.95);
  d.p99_ms = quantile(histogram, 0.99);
  s.durations = std::move(d);
}

void failure_reasons(soci::session& sql, Snapshot& s) {
  int limit = kMaxReasons;
  soci::rowset<soci::row> rows = (sql.prepare << kReasons, soci::use(limit, "limit"));
  for (const auto& r : rows) {
    s.reasons.push_back({r.get<std::string>(0), r.get<std::string>(1), r.get<long long>(2)});
  }
}

void stock_outs(soci::session& sql, Snapshot& s) {
  long long out_of_stock = 0;
  sql << kOutOfStock, soci::into(out_of_stock);
  Snapshot counted;
  counts_of(sql, "stock_outs", counted);
  s.counts.push_back({"products_out_of_stock", out_of_stock});
  s.counts.push_back({"rejections", count_named(counted, "rejections")});
  int limit = kTopStockOuts;
  soci::rowset<soci::row> rows = (sql.prepare << kStockOuts, soci::use(limit, "limit"));
  for (const auto& r : rows) {
    Snapshot::Product p;
    p.product_id = r.get<std::string>(0);
    if (auto name = r.get<std::string>(1); !name.empty()) p.name = std::move(name);
    p.rejections = r.get<long long>(2);
    if (const long long available = r.get<long long>(3); available >= 0) p.available = available;
    s.products.push_back(std::move(p));
  }
}

void top_products(soci::session& sql, Snapshot& s) {
  int limit = kTopProducts;
  soci::rowset<soci::row> rows = (sql.prepare << kTopProductsSql, soci::use(limit, "limit"));
  for (const auto& r : rows) {
    auto row = sale_row("product", r.get<std::string>(3), r.get<long long>(4), r.get<long long>(5),
                        r.get<long long>(6), r.get<long long>(7));
    row.product_id = r.get<std::string>(0);
    if (auto seller = r.get<std::string>(1); !seller.empty()) row.seller_id = std::move(seller);
    if (auto name = r.get<std::string>(2); !name.empty()) row.name = std::move(name);
    s.sales.push_back(std::move(row));
  }
}

void sales_totals(soci::session& sql, Snapshot& s) {
  soci::rowset<soci::row> rows = (sql.prepare << kTotals);
  for (const auto& r : rows) {
    s.sales.push_back(sale_row("currency", r.get<std::string>(0), r.get<long long>(1),
                               r.get<long long>(2), r.get<long long>(3), r.get<long long>(4)));
  }
}

void activity(soci::session& sql, Snapshot& s) {
  counts_of(sql, "activity", s);
}

void day_sales(soci::session& sql, const std::string& day, Snapshot& s) {
  int limit = kMaxRowsPerGroup;
  soci::rowset<soci::row> rows =
      (sql.prepare << kDay, soci::use(day, "day"), soci::use(limit, "limit"));
  for (const auto& r : rows) {
    if (r.get<long long>(9) > kMaxRowsPerGroup) {
      s.truncated = true;
      continue;
    }
    const std::string group = r.get<std::string>(0);
    auto row = sale_row(group, r.get<std::string>(2), r.get<long long>(5), r.get<long long>(6),
                        r.get<long long>(7), r.get<long long>(8));
    if (group == "product") {
      row.product_id = r.get<std::string>(1);
      if (auto name = r.get<std::string>(3); !name.empty()) row.name = std::move(name);
    }
    if (auto seller = r.get<std::string>(4); !seller.empty() && group != "currency") {
      row.seller_id = std::move(seller);
    }
    s.sales.push_back(std::move(row));
  }
}

using Builder = std::function<void(soci::session&, Snapshot&)>;

const std::map<std::string, Builder>& builders() {
  static const std::map<std::string, Builder> table{{"orders_by_status", orders_by_status},
                                                    {"conversion", conversion},
                                                    {"saga_durations", saga_durations},
                                                    {"failure_reasons", failure_reasons},
                                                    {"stock_outs", stock_outs},
                                                    {"top_products", top_products},
                                                    {"sales_totals", sales_totals},
                                                    {"activity", activity}};
  return table;
}

// The snapshot of `metric`, or nullopt for a name analytics does not publish.
std::optional<Snapshot> build(soci::session& sql, const std::string& metric) {
  Snapshot s;
  s.metric = metric;
  if (const auto it = builders().find(metric); it != builders().end()) {
    it->second(sql, s);
    return s;
  }
  constexpr std::string_view kSales = "sales.";
  if (metric.starts_with(kSales)) {
    day_sales(sql, metric.substr(kSales.size()), s);
    return s;
  }
  return std::nullopt;
}

}  // namespace

int publish_snapshots(events::TaskContext& ctx, std::chrono::seconds refresh) {
  int published = 0;
  events::in_transaction(ctx, [&](soci::session& sql, events::OutboxWriter& out) {
    // Marks still locked belong to transactions in flight: they are taken next time, after
    // those commit, so no change is ever read before it is visible.
    std::set<std::string> metrics;
    {
      soci::rowset<std::string> dirty = (sql.prepare << kTakeDirty);
      for (const auto& m : dirty) metrics.insert(m);
    }
    for (const auto& m : metrics) sql << kDropDirty, soci::use(m, "metric");
    {
      long long seconds = refresh.count();
      soci::rowset<std::string> stale = (sql.prepare << kStale, soci::use(seconds, "refresh"));
      for (const auto& m : stale) metrics.insert(m);
    }
    const std::string as_of = events::format_rfc3339(ctx.clock.now());
    for (const auto& metric : metrics) {
      auto snapshot = build(sql, metric);
      if (!snapshot) {
        spdlog::warn("analytics: no snapshot is defined for metric {}", metric);
        continue;
      }
      long long sequence = 0;
      sql << kNextSequence, soci::use(metric, "metric"), soci::into(sequence);
      snapshot->sequence = sequence;
      snapshot->as_of = as_of;
      events::emit(out, ctx.factory, contracts::topic::kAnalyticsEvents, metric, *snapshot);
      ++published;
    }
  });
  return published;
}

}  // namespace bazaar::analytics
