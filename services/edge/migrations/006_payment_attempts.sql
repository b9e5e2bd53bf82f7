-- Paying later and again after a decline. Every answered charge attempt of an order, as
-- PaymentCharged and PaymentDeclined tell it (an event without `attempt` is attempt 1), and
-- the buyer's payment window as OrderAwaitingPayment tells it.
CREATE TABLE payment_attempts_view (
  order_id uuid        NOT NULL,
  attempt  integer     NOT NULL CHECK (attempt >= 1),
  outcome  text        NOT NULL CHECK (outcome IN ('CHARGED', 'DECLINED')),
  reason   text,
  at       timestamptz NOT NULL,
  PRIMARY KEY (order_id, attempt)
);

ALTER TABLE orders_view
  ADD COLUMN payment_due_at        timestamptz,
  ADD COLUMN payment_attempts_left integer;
