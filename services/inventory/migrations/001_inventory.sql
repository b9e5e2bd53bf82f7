-- Stock per product. The CHECKs make the conservation invariant the database's too: a bug
-- that would break it fails its transaction instead of overselling.
CREATE TABLE stock (
  product_id uuid        PRIMARY KEY,
  seller_id  uuid,
  on_hand    bigint      NOT NULL,
  available  bigint      NOT NULL,
  reserved   bigint      NOT NULL DEFAULT 0,
  sold       bigint      NOT NULL DEFAULT 0,
  deleted_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT stock_not_negative CHECK (available >= 0 AND reserved >= 0 AND sold >= 0),
  CONSTRAINT stock_conserved CHECK (on_hand = available + reserved + sold)
);

-- One row per order that asked for stock. REJECTED keeps the refusal (to answer a repeat the
-- same way); RELEASED without lines records a release that arrived before any reservation.
CREATE TABLE reservations (
  order_id       uuid        PRIMARY KEY,
  status         text        NOT NULL
                 CHECK (status IN ('ACTIVE', 'COMMITTED', 'RELEASED', 'EXPIRED', 'REJECTED')),
  expires_at     timestamptz,
  release_reason text,
  rejection      jsonb,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT reservations_active_expires CHECK (status <> 'ACTIVE' OR expires_at IS NOT NULL),
  CONSTRAINT reservations_rejection CHECK (status <> 'REJECTED' OR rejection IS NOT NULL)
);
-- The expiry scan reads only active reservations, oldest deadline first.
CREATE INDEX reservations_active_expiry ON reservations (expires_at, order_id)
  WHERE status = 'ACTIVE';

-- The merged lines of a reservation (one per product).
CREATE TABLE reservation_lines (
  order_id   uuid   NOT NULL REFERENCES reservations (order_id),
  product_id uuid   NOT NULL REFERENCES stock (product_id),
  quantity   bigint NOT NULL CHECK (quantity > 0),
  PRIMARY KEY (order_id, product_id)
);
