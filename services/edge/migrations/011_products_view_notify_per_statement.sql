-- Migration 010 announced every changed row: a bulk UPDATE of the whole view would queue one
-- notification per row, and every edge would forget them one by one. Now each statement
-- announces once it ran: the ids it changed when they are few, '*' (forget everything) when
-- there are more than 100. (A trigger with transition tables serves one event only, hence three.)
DROP TRIGGER products_view_changed ON products_view;

CREATE FUNCTION products_view_announce_rows() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  changed_id uuid;
BEGIN
  IF (SELECT count(*) FROM changed_rows) > 100 THEN
    PERFORM pg_notify('products_view_changed', '*');
    RETURN NULL;
  END IF;
  FOR changed_id IN SELECT DISTINCT product_id FROM changed_rows LOOP
    PERFORM pg_notify('products_view_changed', changed_id::text);
  END LOOP;
  IF TG_OP = 'UPDATE' THEN
    -- An update that changed a product's id: the old id is gone too.
    FOR changed_id IN SELECT product_id FROM rows_before EXCEPT SELECT product_id FROM changed_rows
    LOOP
      PERFORM pg_notify('products_view_changed', changed_id::text);
    END LOOP;
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER products_view_inserted AFTER INSERT ON products_view
  REFERENCING NEW TABLE AS changed_rows
  FOR EACH STATEMENT EXECUTE FUNCTION products_view_announce_rows();
CREATE TRIGGER products_view_updated AFTER UPDATE ON products_view
  REFERENCING OLD TABLE AS rows_before NEW TABLE AS changed_rows
  FOR EACH STATEMENT EXECUTE FUNCTION products_view_announce_rows();
CREATE TRIGGER products_view_deleted AFTER DELETE ON products_view
  REFERENCING OLD TABLE AS changed_rows
  FOR EACH STATEMENT EXECUTE FUNCTION products_view_announce_rows();
