-- Every process caches API-key lookups (src/auth/api-key-cache.ts). A change that matters to
-- authentication tells every process listening on `cordon_api_keys`, from inside the changing
-- transaction: PostgreSQL delivers the notification when that transaction commits, and never if it
-- rolls back. Whatever makes the change (the API, the CLI, SQL by hand) is covered. The payload is the
-- key's id; '*' (TRUNCATE) means every key. `last_used_at` alone does not notify: it is bookkeeping.
CREATE FUNCTION api_keys_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'TRUNCATE' THEN
    PERFORM pg_notify('cordon_api_keys', '*');
  ELSE
    PERFORM pg_notify('cordon_api_keys', OLD.id::text);
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER api_keys_changed AFTER UPDATE ON api_keys FOR EACH ROW
  WHEN ((to_jsonb(OLD) - 'last_used_at') IS DISTINCT FROM (to_jsonb(NEW) - 'last_used_at'))
  EXECUTE FUNCTION api_keys_notify_change();

CREATE TRIGGER api_keys_deleted AFTER DELETE ON api_keys FOR EACH ROW
  EXECUTE FUNCTION api_keys_notify_change();

CREATE TRIGGER api_keys_truncated AFTER TRUNCATE ON api_keys FOR EACH STATEMENT
  EXECUTE FUNCTION api_keys_notify_change();
