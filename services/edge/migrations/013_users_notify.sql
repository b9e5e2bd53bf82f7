-- Edge keeps the role of each account that sent a request (auth/role_cache.hpp) and must
-- forget it as soon as the account's row changes, whoever changed it: another edge instance, an
-- operator. Every statement that changes users announces on the channel users_changed, once its
-- transaction commits, the ids it changed, or '*' (forget every account) past 100 of them or
-- when the table was truncated.
CREATE FUNCTION users_announce_rows() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  changed_id uuid;
BEGIN
  IF (SELECT count(*) FROM changed_rows) > 100 THEN
    PERFORM pg_notify('users_changed', '*');
    RETURN NULL;
  END IF;
  FOR changed_id IN SELECT DISTINCT user_id FROM changed_rows LOOP
    PERFORM pg_notify('users_changed', changed_id::text);
  END LOOP;
  IF TG_OP = 'UPDATE' THEN
    -- An update that changed an account's id: the old id is gone too.
    FOR changed_id IN SELECT user_id FROM rows_before EXCEPT SELECT user_id FROM changed_rows LOOP
      PERFORM pg_notify('users_changed', changed_id::text);
    END LOOP;
  END IF;
  RETURN NULL;
END
$$;

CREATE FUNCTION users_announce_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('users_changed', '*');
  RETURN NULL;
END
$$;

CREATE TRIGGER users_inserted AFTER INSERT ON users
  REFERENCING NEW TABLE AS changed_rows
  FOR EACH STATEMENT EXECUTE FUNCTION users_announce_rows();
CREATE TRIGGER users_updated AFTER UPDATE ON users
  REFERENCING OLD TABLE AS rows_before NEW TABLE AS changed_rows
  FOR EACH STATEMENT EXECUTE FUNCTION users_announce_rows();
CREATE TRIGGER users_deleted AFTER DELETE ON users
  REFERENCING OLD TABLE AS changed_rows
  FOR EACH STATEMENT EXECUTE FUNCTION users_announce_rows();
CREATE TRIGGER users_truncated AFTER TRUNCATE ON users
  FOR EACH STATEMENT EXECUTE FUNCTION users_announce_truncate();
