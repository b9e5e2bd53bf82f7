-- The catalog's own state: every product ever listed. A deleted product keeps its row
-- (status DELETED) so its id is never listed again.
CREATE TABLE products (
  product_id  uuid        PRIMARY KEY,
  seller_id   uuid        NOT NULL,
  name        text        NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
  description text        NOT NULL DEFAULT '',
  price       bigint      NOT NULL CHECK (price >= 0),  -- minor units
  currency    char(3)     NOT NULL,
  category    text        NOT NULL,
  status      text        NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'DELETED')),
  created_at  timestamptz NOT NULL,
  updated_at  timestamptz NOT NULL
);
CREATE INDEX products_seller ON products (seller_id) WHERE status = 'ACTIVE';
