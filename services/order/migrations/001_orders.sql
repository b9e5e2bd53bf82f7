-- Orders and their saga state, written in the same transaction as the outbox rows.
CREATE TABLE orders (
  order_id         uuid        PRIMARY KEY,
  buyer_id         uuid        NOT NULL,
  status           text        NOT NULL,
  reason           text        NOT NULL DEFAULT '',
  total            bigint      NOT NULL CHECK (total >= 0),
  currency         text        NOT NULL,
  payment_token    text        NOT NULL,
  stock_held       boolean     NOT NULL DEFAULT false,
  charged          boolean     NOT NULL DEFAULT false,
  awaiting_release boolean     NOT NULL DEFAULT false,
  awaiting_refund  boolean     NOT NULL DEFAULT false,
  deadline_at      timestamptz,
  created_at       timestamptz NOT NULL,
  updated_at       timestamptz NOT NULL
);
CREATE INDEX orders_deadline ON orders (deadline_at) WHERE deadline_at IS NOT NULL;
CREATE INDEX orders_buyer ON orders (buyer_id, created_at);

-- Prices captured at placement; never read from the command.
CREATE TABLE order_lines (
  order_id   uuid   NOT NULL REFERENCES orders (order_id),
  line_no    integer NOT NULL,
  product_id uuid   NOT NULL,
  quantity   bigint NOT NULL CHECK (quantity > 0),
  unit_price bigint NOT NULL CHECK (unit_price >= 0),
  seller_id  uuid   NOT NULL,
  PRIMARY KEY (order_id, line_no)
);

-- Every step of every saga: what happened, from which state to which, what was sent.
CREATE TABLE saga_steps (
  step_id     bigserial   PRIMARY KEY,
  order_id    uuid        NOT NULL,
  at          timestamptz NOT NULL,
  trigger     text        NOT NULL,
  from_status text        NOT NULL,
  to_status   text        NOT NULL,
  commands    text        NOT NULL,
  note        text        NOT NULL
);
CREATE INDEX saga_steps_order ON saga_steps (order_id, step_id);

-- The order service's own projection of catalog.events: the prices orders capture.
CREATE TABLE catalog_prices (
  product_id uuid        PRIMARY KEY,
  seller_id  uuid        NOT NULL,
  price      bigint      NOT NULL CHECK (price >= 0),
  currency   text        NOT NULL,
  deleted    boolean     NOT NULL DEFAULT false,
  updated_at timestamptz NOT NULL DEFAULT now()
);
