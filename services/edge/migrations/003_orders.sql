-- The edge's order side: carts it owns, and read models of order.events and payment.events
-- (consumer group edge-orders). POST /orders writes its view row in the same transaction as
-- the PlaceOrder command, so an order is readable the moment it is accepted.

-- A buyer's cart. Prices are not stored: they are read from products_view when shown, so a
-- cart always previews today's price, as the order service will capture it.
CREATE TABLE carts (
  buyer_id   uuid        PRIMARY KEY,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);

CREATE TABLE cart_items (
  buyer_id   uuid        NOT NULL REFERENCES carts (buyer_id) ON DELETE CASCADE,
  product_id uuid        NOT NULL,
  quantity   bigint      NOT NULL CHECK (quantity BETWEEN 1 AND 1000),
  added_at   timestamptz NOT NULL,
  PRIMARY KEY (buyer_id, product_id)
);

-- One row per order. `settled_at` is when the saga first reached an outcome (CONFIRMED,
-- REJECTED or CANCELLED): saga durations are measured to it, not to a later shipment.
CREATE TABLE orders_view (
  order_id      uuid        PRIMARY KEY,
  buyer_id      uuid        NOT NULL,
  status        text        NOT NULL,
  reason        text,
  total         bigint      NOT NULL CHECK (total >= 0),
  currency      text        NOT NULL,
  payment_token text,
  created_at    timestamptz NOT NULL,
  updated_at    timestamptz NOT NULL,
  settled_at    timestamptz
);
-- Lists are newest first, paged by the key (created_at, order_id).
CREATE INDEX orders_view_newest ON orders_view (created_at DESC, order_id DESC);
CREATE INDEX orders_view_buyer ON orders_view (buyer_id, created_at DESC, order_id DESC);
CREATE INDEX orders_view_status ON orders_view (status);

-- Until OrderPlaced arrives, unit_price is the catalog price at posting (a preview); then the
-- price the order service captured.
CREATE TABLE order_lines_view (
  order_id   uuid    NOT NULL REFERENCES orders_view (order_id) ON DELETE CASCADE,
  line_no    integer NOT NULL,
  product_id uuid    NOT NULL,
  quantity   bigint  NOT NULL CHECK (quantity > 0),
  unit_price bigint  NOT NULL CHECK (unit_price >= 0),
  PRIMARY KEY (order_id, line_no)
);

-- The saga's status changes. The saga's states form a graph without cycles, so one order
-- passes each (previous_status, status) edge at most once: the unique key makes a replayed
-- event a no-op. The placement itself is the step PLACED -> PLACED, as in the order service's log.
CREATE TABLE order_steps_view (
  order_id        uuid        NOT NULL REFERENCES orders_view (order_id) ON DELETE CASCADE,
  seq             integer     NOT NULL,
  at              timestamptz NOT NULL,
  status          text        NOT NULL,
  previous_status text        NOT NULL,
  reason          text,
  PRIMARY KEY (order_id, seq),
  UNIQUE (order_id, previous_status, status)
);

-- The payment of an order as payment.events tell it. No row: no payment event yet.
CREATE TABLE payments_view (
  order_id   uuid        PRIMARY KEY,
  status     text        NOT NULL CHECK (status IN ('CHARGED', 'DECLINED', 'REFUNDED')),
  amount     bigint      NOT NULL DEFAULT 0 CHECK (amount >= 0),
  refunded   bigint      NOT NULL DEFAULT 0 CHECK (refunded >= 0),
  currency   text        NOT NULL,
  payment_id uuid,
  reason     text,
  updated_at timestamptz NOT NULL
);

-- The first answer to a POST sent with an Idempotency-Key, written in the transaction of the
-- POST's effect: a repeat either finds it or waits on the first one's row lock.
CREATE TABLE idempotency_keys (
  user_id      uuid        NOT NULL,
  key          text        NOT NULL CHECK (char_length(key) BETWEEN 1 AND 200),
  method       text        NOT NULL,
  path         text        NOT NULL,
  request_hash text        NOT NULL,
  status       integer     NOT NULL,
  body         text        NOT NULL,
  created_at   timestamptz NOT NULL,
  PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
