-- The API writes a product's row at once and sends the catalog a command; the catalog answers
-- each command with one event whose ce_causationid is the command's ce_id. Until the answer to
-- the API's latest command arrives, an older event about the product (the ProductCreated of a
-- product renamed since, the ProductUpdated of an earlier PATCH) describes a state the API has
-- already written over: applying it would undo the newer write for a while. The row keeps the
-- ce_id of the latest command the API sent for it; the projection overwrites the catalog's
-- fields only from an event that answers that command, or when no command is awaited.
ALTER TABLE products_view ADD COLUMN awaiting_command uuid;
