-- The stats read model: edge's projection of analytics.events (StatsSnapshot). The latest
-- snapshot of each metric, and the rows of each day's sales for /admin/stats/sales and
-- /sellers/me/stats. Amounts in minor units.
CREATE TABLE stats_snapshots (
  metric   text        PRIMARY KEY,
  sequence bigint      NOT NULL,
  as_of    timestamptz NOT NULL,
  body     jsonb       NOT NULL
);

CREATE TABLE stats_sales (
  day       date   NOT NULL,
  grp       text   NOT NULL CHECK (grp IN ('currency', 'product', 'seller')),
  dim       text   NOT NULL,
  currency  text   NOT NULL,
  name      text,
  seller_id uuid,
  orders    bigint NOT NULL,
  units     bigint NOT NULL,
  gross     bigint NOT NULL,
  refunded  bigint NOT NULL,
  PRIMARY KEY (day, grp, dim, currency)
);
CREATE INDEX stats_sales_by_seller ON stats_sales (seller_id, day) WHERE grp = 'product';
