-- The API writes a product's row at once and sends a command; the catalog (or inventory, for
-- the stock) answers each command with one event whose ce_causationid is the command's ce_id.
-- Until the answer to the API's latest command arrives, an older event about the product (the
-- ProductCreated of a product renamed since, the ProductUpdated of an earlier PATCH, the
-- StockLevelChanged of a reservation made before a new stock was set) describes a state the
-- API has already written over: applying it would undo the newer write for a while. The row
-- keeps the ce_id of the latest command the API sent for its catalog fields and for its stock,
-- and since when; the projection overwrites them only from an event that answers that command,
-- when none is awaited, or when the wait is older than five minutes (a command that was
-- dead-lettered is never answered, and must not freeze the row).
ALTER TABLE products_view
  ADD COLUMN awaiting_command uuid,
  ADD COLUMN awaiting_since timestamptz,
  ADD COLUMN awaiting_stock_command uuid,
  ADD COLUMN awaiting_stock_since timestamptz;
