-- PaymentRefunded reports an order's refunded total so far, not an increment: a compensation
-- answered twice and an admin's partial refunds both come as totals. `refunded` is the largest
-- total counted for the order, so only what it adds is counted again.
ALTER TABLE orders ADD COLUMN refunded bigint NOT NULL DEFAULT 0;
