-- One payment per order (the order id is the idempotency key). charged_amount and
-- refunded_amount let anyone check the money invariant per order: charged - refunded is the
-- order's total when it was confirmed, else 0.
CREATE TABLE payments (
  order_id        uuid        PRIMARY KEY,
  payment_id      uuid        UNIQUE,
  status          text        NOT NULL
                  CHECK (status IN ('PENDING', 'CHARGED', 'DECLINED', 'REFUNDED', 'VOIDED')),
  amount          bigint      NOT NULL CHECK (amount >= 0),
  currency        text        NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  charged_amount  bigint      NOT NULL DEFAULT 0,
  refunded_amount bigint      NOT NULL DEFAULT 0,
  decline_reason  text,
  attempts        integer     NOT NULL DEFAULT 0,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  charged_at      timestamptz,
  refunded_at     timestamptz,
  CONSTRAINT payments_money CHECK (charged_amount >= 0 AND refunded_amount >= 0
                                   AND refunded_amount <= charged_amount),
  CONSTRAINT payments_only_charges_hold_money
    CHECK (status IN ('CHARGED', 'REFUNDED') OR charged_amount = 0),
  CONSTRAINT payments_charge_has_id
    CHECK (status NOT IN ('CHARGED', 'REFUNDED') OR payment_id IS NOT NULL)
);

-- Money actually given back: at most one full refund per order.
CREATE TABLE refunds (
  order_id    uuid        PRIMARY KEY REFERENCES payments (order_id),
  payment_id  uuid        NOT NULL,
  amount      bigint      NOT NULL CHECK (amount >= 0),
  reason      text,
  refunded_at timestamptz NOT NULL DEFAULT now()
);
