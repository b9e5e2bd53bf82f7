-- Admin refunds: an order's charge may be given back in parts. Each refund is a row named by
-- its refund_id (the idempotency key of an admin refund; compensations get one of their own).
-- A payment stays CHARGED while only part of it is refunded, and is REFUNDED once all of it is.
ALTER TABLE refunds ADD COLUMN refund_id uuid;
UPDATE refunds SET refund_id = gen_random_uuid();
ALTER TABLE refunds ALTER COLUMN refund_id SET NOT NULL;
ALTER TABLE refunds DROP CONSTRAINT refunds_pkey;
ALTER TABLE refunds ADD PRIMARY KEY (refund_id);
CREATE INDEX refunds_order ON refunds (order_id);
