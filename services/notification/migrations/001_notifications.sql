-- The notification service's own state.

-- Its projection of identity.events: only what it needs to find the admins (no names or
-- emails). A UserDisabled may come before anything else about a user, so role may be unknown.
CREATE TABLE users (
  user_id    uuid        PRIMARY KEY,
  role       text        CHECK (role IN ('admin', 'seller', 'buyer')),
  disabled   boolean     NOT NULL DEFAULT false,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX users_active_admins ON users (user_id) WHERE role = 'admin' AND NOT disabled;

-- Every notification ever created. The unique key makes each (event, recipient, kind) happen
-- once, however often the event arrives.
CREATE TABLE notifications (
  notification_id uuid        PRIMARY KEY,
  source_event_id uuid        NOT NULL,
  source_type     text        NOT NULL,
  recipient_id    uuid        NOT NULL,
  recipient_role  text        NOT NULL CHECK (recipient_role IN ('admin', 'seller', 'buyer')),
  kind            text        NOT NULL,
  order_id        uuid,
  title           text        NOT NULL,
  body            text        NOT NULL,
  created_at      timestamptz NOT NULL,
  CONSTRAINT notifications_once UNIQUE (source_event_id, recipient_id, kind)
);
CREATE INDEX notifications_recipient ON notifications (recipient_id, created_at DESC);

-- Webhook deliveries, one per notification while a webhook is configured. `payload` is the
-- NotificationCreated payload, POSTed as is.
CREATE TABLE deliveries (
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
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'PENDING';
