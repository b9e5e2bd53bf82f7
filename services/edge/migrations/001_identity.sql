-- Identity: accounts, refresh-token families and one-time sign-in codes.
CREATE TABLE users (
  user_id       uuid        PRIMARY KEY,
  email         text        NOT NULL UNIQUE CHECK (email = lower(email)),
  name          text        NOT NULL,
  role          text        NOT NULL CHECK (role IN ('admin', 'seller', 'buyer')),
  password_hash text        NOT NULL,
  disabled      boolean     NOT NULL DEFAULT false,
  deleted_at    timestamptz,
  created_at    timestamptz NOT NULL,
  updated_at    timestamptz NOT NULL
);
CREATE INDEX users_role ON users (role, user_id);

-- One family per sign-in: rotation keeps the family, and presenting a used token revokes
-- the whole family, so a stolen token dies as soon as either holder uses it twice.
CREATE TABLE refresh_families (
  family_id  uuid        PRIMARY KEY,
  user_id    uuid        NOT NULL REFERENCES users (user_id),
  created_at timestamptz NOT NULL,
  revoked_at timestamptz
);
CREATE INDEX refresh_families_live ON refresh_families (user_id) WHERE revoked_at IS NULL;

-- Only the SHA-256 of a refresh token is kept: a leaked table signs no one in.
CREATE TABLE refresh_tokens (
  token_hash text        PRIMARY KEY,
  family_id  uuid        NOT NULL REFERENCES refresh_families (family_id),
  user_id    uuid        NOT NULL REFERENCES users (user_id),
  issued_at  timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  used_at    timestamptz
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);

-- The latest one-time code per user; a new request replaces the previous code.
CREATE TABLE otp_codes (
  user_id    uuid        PRIMARY KEY REFERENCES users (user_id),
  code_hash  text        NOT NULL,
  expires_at timestamptz NOT NULL,
  attempts   integer     NOT NULL DEFAULT 0,
  used_at    timestamptz,
  created_at timestamptz NOT NULL
);
