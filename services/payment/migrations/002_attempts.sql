-- An order may be charged in several attempts (the buyer pays again after a decline). The row
-- stays one per order; `last_attempt` is the attempt its status answers. A ChargePayment of a
-- later attempt after a decline asks the provider again; one of the same or an earlier attempt
-- repeats the stored answer. A charged order is never charged again, whatever the attempt.
ALTER TABLE payments ADD COLUMN last_attempt integer NOT NULL DEFAULT 1 CHECK (last_attempt >= 1);
