-- Edge keeps the answers of product reads in memory (catalog/product_cache.hpp) and must
-- forget one as soon as its row changes, whoever changed it: another edge instance, an
-- operator's rebuild. Every change to products_view is announced on the channel
-- products_view_changed once its transaction commits: the product's id as the payload, or '*'
-- when the table was truncated. PostgreSQL folds identical notifications of one transaction.
CREATE FUNCTION products_view_announce() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    PERFORM pg_notify('products_view_changed', '*');
  ELSIF TG_OP = 'DELETE' THEN
    PERFORM pg_notify('products_view_changed', OLD.product_id::text);
  ELSE
    PERFORM pg_notify('products_view_changed', NEW.product_id::text);
    IF TG_OP = 'UPDATE' AND OLD.product_id <> NEW.product_id THEN
      PERFORM pg_notify('products_view_changed', OLD.product_id::text);
    END IF;
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER products_view_changed AFTER INSERT OR UPDATE OR DELETE ON products_view
  FOR EACH ROW EXECUTE FUNCTION products_view_announce();
CREATE TRIGGER products_view_truncated AFTER TRUNCATE ON products_view
  FOR EACH STATEMENT EXECUTE FUNCTION products_view_announce();
