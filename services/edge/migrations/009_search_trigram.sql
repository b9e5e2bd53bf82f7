-- Product search (`GET /products?q=`) matches a substring of the name or the description,
-- which a btree cannot serve: without these indexes a search for a rare word reads every
-- active product. Trigram indexes answer LIKE '%text%' on the same lower() expressions the
-- query uses. They are not partial on purpose: the planner keeps statistics for the
-- expression of a full index only, and without them it guesses that any pattern matches one
-- row in a hundred and walks the newest-first index instead. fastupdate is off so a search
-- never scans a pending list of recent writes (products change far less often than they are
-- searched). pg_trgm is a trusted extension: the database's owner may create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX products_view_name_trgm ON products_view
  USING gin (lower(name) gin_trgm_ops) WITH (fastupdate = off);
CREATE INDEX products_view_description_trgm ON products_view
  USING gin (lower(description) gin_trgm_ops) WITH (fastupdate = off);
