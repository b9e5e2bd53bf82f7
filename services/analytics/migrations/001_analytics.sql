-- The analytics service's aggregates, kept from every *.events topic. Each is updated in the
-- transaction that records the event in the inbox, so a duplicate changes nothing.

-- Orders as far as analytics needs them: the status for orders_by_status, the placement time
-- for saga durations, whether it confirmed (refunds count against sales only then).
CREATE TABLE orders (
  order_id   uuid        PRIMARY KEY,
  status     text        NOT NULL,
  placed_at  timestamptz,
  outcome_at timestamptz,
  confirmed  boolean     NOT NULL DEFAULT false,
  currency   text
);

-- The lines of confirmed orders: a refund is spread over them for per-product figures.
CREATE TABLE sale_lines (
  order_id   uuid   NOT NULL,
  line_no    integer NOT NULL,
  product_id uuid   NOT NULL,
  seller_id  uuid,
  name       text   NOT NULL DEFAULT '',
  quantity   bigint NOT NULL,
  amount     bigint NOT NULL,
  PRIMARY KEY (order_id, line_no)
);

-- Refunds seen before their order's confirmation (the two travel on different topics): they
-- count once the confirmation arrives, and never for an order that does not confirm.
CREATE TABLE pending_refunds (
  event_id uuid        PRIMARY KEY,
  order_id uuid        NOT NULL,
  day      date        NOT NULL,
  amount   bigint      NOT NULL,
  currency text        NOT NULL
);
CREATE INDEX pending_refunds_order ON pending_refunds (order_id);

-- Sales per UTC day, by currency, product and seller. Amounts in minor units of `currency`.
CREATE TABLE daily_sales (
  day       date   NOT NULL,
  grp       text   NOT NULL CHECK (grp IN ('currency', 'product', 'seller')),
  dim       text   NOT NULL,
  currency  text   NOT NULL,
  name      text,
  seller_id uuid,
  orders    bigint NOT NULL DEFAULT 0,
  units     bigint NOT NULL DEFAULT 0,
  gross     bigint NOT NULL DEFAULT 0,
  refunded  bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (day, grp, dim, currency)
);

-- All-time sales per product, for the top products.
CREATE TABLE product_sales (
  product_id uuid   NOT NULL,
  currency   text   NOT NULL,
  seller_id  uuid,
  name       text   NOT NULL DEFAULT '',
  orders     bigint NOT NULL DEFAULT 0,
  units      bigint NOT NULL DEFAULT 0,
  gross      bigint NOT NULL DEFAULT 0,
  refunded   bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (product_id, currency)
);
CREATE INDEX product_sales_units ON product_sales (units DESC);

-- Named counts per metric: orders_by_status, conversion, activity.
CREATE TABLE counters (
  metric text   NOT NULL,
  name   text   NOT NULL,
  count  bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (metric, name)
);

-- How orders failed: kind is rejected, cancelled or declined.
CREATE TABLE failure_reasons (
  kind   text   NOT NULL,
  reason text   NOT NULL,
  count  bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (kind, reason)
);

-- Saga durations as a histogram of logarithmic buckets (never the samples themselves).
CREATE TABLE duration_buckets (
  bucket integer PRIMARY KEY,
  count  bigint  NOT NULL DEFAULT 0
);

-- Products as catalog and inventory describe them: names for the stock-outs, the last known
-- available units, and how many orders were refused for lack of each.
CREATE TABLE products (
  product_id uuid    PRIMARY KEY,
  name       text,
  seller_id  uuid,
  available  bigint,
  rejections bigint  NOT NULL DEFAULT 0
);
CREATE INDEX products_out_of_stock ON products (product_id) WHERE available = 0;
CREATE INDEX products_rejections ON products (rejections DESC) WHERE rejections > 0;

-- Metrics changed since their last snapshot, and the sequence of each metric's snapshots.
CREATE TABLE dirty_metrics (
  metric text PRIMARY KEY
);
CREATE TABLE snapshots (
  metric       text        PRIMARY KEY,
  sequence     bigint      NOT NULL,
  published_at timestamptz NOT NULL
);
