-- Admin refunds. `refund_requested`: minor units of refunds accepted (paid out or on their way),
-- which plan_refund keeps within the total; `refunded`: what the payment service reported
-- refunded so far. Each accepted refund is a row, marked when its money went back.
ALTER TABLE orders
  ADD COLUMN refund_requested bigint NOT NULL DEFAULT 0 CHECK (refund_requested >= 0),
  ADD COLUMN refunded         bigint NOT NULL DEFAULT 0 CHECK (refunded >= 0);

CREATE TABLE order_refunds (
  refund_id    uuid        PRIMARY KEY,
  order_id     uuid        NOT NULL REFERENCES orders (order_id),
  amount       bigint      NOT NULL CHECK (amount > 0),
  reason       text        NOT NULL,
  actor_id     uuid        NOT NULL,
  requested_at timestamptz NOT NULL,
  refunded_at  timestamptz
);
CREATE INDEX order_refunds_order ON order_refunds (order_id);
