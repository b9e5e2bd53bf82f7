-- A user's phone number (E.164), bound once verified with a code, and the chat notifications
-- go to (bound only with a verified phone). A verified number names one account.
ALTER TABLE users
  ADD COLUMN phone             text,
  ADD COLUMN phone_verified_at timestamptz,
  ADD COLUMN chat_id           text;
CREATE UNIQUE INDEX users_verified_phone ON users (phone) WHERE phone_verified_at IS NOT NULL;

-- The pending verification of a number: the code's hash bound to the user and the number.
CREATE TABLE phone_verifications (
  user_id    uuid        PRIMARY KEY REFERENCES users (user_id),
  phone      text        NOT NULL,
  code_hash  text        NOT NULL,
  expires_at timestamptz NOT NULL,
  attempts   integer     NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL
);
