-- Paying later and again after a decline. An order placed without a token has an empty
-- payment_token until PayOrder gives one. `attempts` counts the charges sent (attempt numbers
-- 1..attempts), `charging` says the last one is unanswered, `max_attempts` is fixed at placement.
-- `payment_due_at` is the end of the buyer's payment window, set the first time the saga waits
-- for the buyer and kept across attempts.
ALTER TABLE orders
  ADD COLUMN has_token      boolean NOT NULL DEFAULT false,
  ADD COLUMN charging       boolean NOT NULL DEFAULT false,
  ADD COLUMN attempts       integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  ADD COLUMN max_attempts   integer NOT NULL DEFAULT 1 CHECK (max_attempts >= 1),
  ADD COLUMN payment_due_at timestamptz;

-- Orders placed before: every one had a token, and one charge was sent once stock was held.
UPDATE orders SET has_token = payment_token <> '',
                  attempts = CASE WHEN status IN ('PLACED', 'AWAITING_STOCK', 'REJECTED') THEN 0
                                  ELSE 1 END,
                  charging = (status = 'AWAITING_PAYMENT' AND NOT charged);
