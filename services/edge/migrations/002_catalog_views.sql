-- The edge's read models of the catalog, stock levels and notifications. products_view rows
-- are written by the API in the same transaction as the command (visible at once) and then
-- kept true by the edge-catalog projection of catalog.events and inventory.events.
CREATE TABLE products_view (
  product_id  uuid        PRIMARY KEY,
  seller_id   uuid        NOT NULL,
  name        text        NOT NULL,
  description text        NOT NULL DEFAULT '',
  price       bigint      NOT NULL CHECK (price >= 0),
  currency    text        NOT NULL,
  category    text        NOT NULL,
  stock       bigint      NOT NULL DEFAULT 0 CHECK (stock >= 0),
  status      text        NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'deleted')),
  created_at  timestamptz NOT NULL,
  updated_at  timestamptz NOT NULL
);
-- One index per listing order (keyset pagination walks them), plus the filters.
CREATE INDEX products_view_newest ON products_view (created_at DESC, product_id DESC)
  WHERE status = 'active';
CREATE INDEX products_view_price ON products_view (price, product_id) WHERE status = 'active';
CREATE INDEX products_view_name ON products_view (lower(name), product_id) WHERE status = 'active';
CREATE INDEX products_view_seller ON products_view (seller_id, created_at DESC)
  WHERE status = 'active';
CREATE INDEX products_view_category ON products_view (category) WHERE status = 'active';

-- Inventory's last word on each product's available stock. inventory.events and
-- catalog.events are separate topics, so a StockLevelChanged may be applied before the
-- product's ProductCreated (after a projection rebuild); the row remembers it until then.
CREATE TABLE product_stock_view (
  product_id uuid        PRIMARY KEY,
  available  bigint      NOT NULL CHECK (available >= 0),
  updated_at timestamptz NOT NULL
);

-- Each user's notification inbox, from notification.events.
CREATE TABLE notifications_view (
  notification_id uuid        PRIMARY KEY,
  recipient_id    uuid        NOT NULL,
  kind            text        NOT NULL,
  order_id        uuid,
  title           text        NOT NULL,
  body            text        NOT NULL,
  created_at      timestamptz NOT NULL,
  read_at         timestamptz
);
CREATE INDEX notifications_view_recipient
  ON notifications_view (recipient_id, created_at DESC, notification_id DESC);
