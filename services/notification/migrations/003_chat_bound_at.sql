-- The time of the chat binding a users row holds (the ce_time of its UserChatBound). identity.events
-- and order.events are read side by side, so a binding may be handled after a notification made
-- later than it, or a stale copy may come back: bindings apply in the order of their times, and
-- the handler moves the chat deliveries of notifications made since a binding's time to it.
ALTER TABLE users ADD COLUMN chat_bound_at timestamptz;
-- A binding made before this column counts as made at the row's last change.
UPDATE users SET chat_bound_at = updated_at WHERE chat_id IS NOT NULL;
