-- Admin refunds as edge asked for them (POST /orders/{id}/refunds, written with the RefundOrder
-- command) and as their answers tell: REFUNDED when the payment service paid one out, REFUSED
-- when the order service refused it.
CREATE TABLE refunds_view (
  refund_id    uuid        PRIMARY KEY,
  order_id     uuid        NOT NULL,
  amount       bigint      NOT NULL CHECK (amount > 0),
  reason       text        NOT NULL,
  status       text        NOT NULL CHECK (status IN ('REQUESTED', 'REFUNDED', 'REFUSED')),
  refusal      text,
  requested_at timestamptz NOT NULL,
  refunded_at  timestamptz
);
CREATE INDEX refunds_view_order ON refunds_view (order_id, requested_at);
