-- Chat notifications. `chat_id` is the chat a user bound (UserChatBound); notifications to a
-- user with a chat are also sent there, through chat_deliveries (the same lifecycle as the
-- webhook's deliveries; `payload` is the sendMessage request: chat_id and text).
ALTER TABLE users ADD COLUMN chat_id text;

CREATE TABLE chat_deliveries (
  notification_id uuid        PRIMARY KEY REFERENCES notifications (notification_id),
  status          text        NOT NULL DEFAULT 'PENDING'
                              CHECK (status IN ('PENDING', 'DELIVERED', 'FAILED')),
  attempts        integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  next_attempt_at timestamptz NOT NULL,
  last_error      text,
  payload         jsonb       NOT NULL,
  created_at      timestamptz NOT NULL,
  updated_at      timestamptz NOT NULL
);
CREATE INDEX chat_deliveries_due ON chat_deliveries (next_attempt_at) WHERE status = 'PENDING';
