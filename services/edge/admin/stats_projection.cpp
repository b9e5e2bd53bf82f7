#include "admin/stats_projection.hpp"

#include <soci/soci.h>

#include <boost/json/serialize.hpp>

#include "catalog/catalog_projection.hpp"

namespace bazaar::edge {
namespace {

constexpr const char* kUpsert = R"sql(
INSERT INTO stats_snapshots AS s (metric, sequence, as_of, body)
VALUES (:metric, :sequence, CAST(:as_of AS timestamptz), CAST(:body AS jsonb))
ON CONFLICT (metric) DO UPDATE
SET sequence = EXCLUDED.sequence, as_of = EXCLUDED.as_of, body = EXCLUDED.body
WHERE s.sequence < EXCLUDED.sequence)sql";

constexpr const char* kDropDay = "DELETE FROM stats_sales WHERE day = CAST(:day AS date)";

// The day's rows straight from the snapshot's JSON: one statement whatever their number.
constexpr const char* kInsertDay = R"sql(
INSERT INTO stats_sales (day, grp, dim, currency, name, seller_id, orders, units, gross,
                         refunded)
SELECT CAST(:day AS date), r."group",
       CASE r."group" WHEN 'currency' THEN r.currency WHEN 'product' THEN r.product_id
                      ELSE r.seller_id END,
       r.currency, r.name, CAST(r.seller_id AS uuid), r.orders, r.units, r.gross, r.refunded
FROM jsonb_to_recordset(CAST(:body AS jsonb) -> 'sales')
     AS r("group" text, product_id text, seller_id text, name text, currency text,
          orders bigint, units bigint, gross bigint, refunded bigint)
WHERE r."group" IN ('currency', 'product', 'seller')
ON CONFLICT (day, grp, dim, currency) DO NOTHING)sql";

}  // namespace

StatsProjection::StatsProjection(const LivePush& live) : live_(live) {
  on(&StatsProjection::snapshot);
}

void StatsProjection::snapshot(events::HandlerContext& ctx,
                               const contracts::analytics::StatsSnapshotV1& e) {
  const std::string body = boost::json::serialize(ctx.event.data);
  const std::string as_of = normalised_time(e.as_of);
  const long long sequence = e.sequence;
  soci::statement upsert =
      (ctx.sql.prepare << kUpsert, soci::use(e.metric, "metric"), soci::use(sequence, "sequence"),
       soci::use(as_of, "as_of"), soci::use(body, "body"));
  upsert.execute(true);
  // An older snapshot than the one kept (a late or replayed record) changes nothing.
  if (upsert.get_affected_rows() == 0) return;
  constexpr std::string_view kSales = "sales.";
  if (e.metric.starts_with(kSales)) {
    const std::string day = e.metric.substr(kSales.size());
    ctx.sql << kDropDay, soci::use(day, "day");
    ctx.sql << kInsertDay, soci::use(day, "day"), soci::use(body, "body");
  }
  ctx.after_commit(
      [this, message = stats_message(e.metric, as_of)] { live_.send_to_role("admin", message); });
}

std::string stats_message(const std::string& metric, const std::string& as_of) {
  return boost::json::serialize(
      boost::json::object{{"type", "stats"}, {"metric", metric}, {"as_of", as_of}});
}

}  // namespace bazaar::edge
