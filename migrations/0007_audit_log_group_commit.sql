-- Group commit for the action log.
--
-- Until now every writer locked the chain head row from its append until its transaction committed, so
-- all audited transactions of all processes ran one after another (measured: ~50 audited commits per
-- second under load, the whole cost of a response action). Now a writer only inserts its entry into
-- audit_pending, in its own transaction: the change and its entry still commit together or not at all
-- (fail closed), and writers no longer wait for each other. A sealer (every Cordon process runs one;
-- they take turns on the chain head row) moves committed pending entries into audit_log in batches:
-- it assigns seq, chains the hashes and deletes the pending rows in one transaction, so an entry is
-- either pending or chained, never both and never lost. Readers (list, verify, export) seal what is
-- pending first, so they see every committed entry.
--
-- `at` is the database clock when the writer appended (the time of the change). seq is the order in
-- which entries were sealed into the chain: commit order, nearly always the order of `at`.
CREATE TABLE audit_pending (
  id bigserial PRIMARY KEY,
  at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', clock_timestamp()),
  event text NOT NULL,
  actor_type text NOT NULL,
  actor_id text NOT NULL,
  actor_name text NOT NULL,
  tenant_id uuid,
  action_id uuid,
  subject text,
  request_id text NOT NULL,
  data jsonb NOT NULL,
  -- the same rule as audit_log, so that every pending entry can be sealed
  CONSTRAINT audit_pending_actor_type_known CHECK (actor_type IN ('apiKey', 'user', 'system'))
);

-- Which pending entry a chained entry came from: the sealer's proof that a pending row may go.
ALTER TABLE audit_log ADD COLUMN pending_id bigint;
CREATE UNIQUE INDEX audit_log_pending_id_idx ON audit_log (pending_id) WHERE pending_id IS NOT NULL;

-- Pending entries cannot be changed, and can be removed only once they are in the chain (the sealer
-- inserts the chained entry and deletes the pending row in the same transaction). As for audit_log, a
-- superuser can switch these triggers off; an entry deleted while pending in that way is the one
-- change verify cannot see, which is why the sealer runs within milliseconds of each commit.
CREATE FUNCTION audit_pending_refuse_unsealed_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM audit_log WHERE pending_id = OLD.id) THEN
    RAISE EXCEPTION 'audit_pending entry % is not sealed into audit_log yet', OLD.id
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN OLD;
END;
$$;

CREATE TRIGGER audit_pending_no_update BEFORE UPDATE ON audit_pending
  FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();
CREATE TRIGGER audit_pending_no_truncate BEFORE TRUNCATE ON audit_pending
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();
CREATE TRIGGER audit_pending_sealed_delete_only BEFORE DELETE ON audit_pending
  FOR EACH ROW EXECUTE FUNCTION audit_pending_refuse_unsealed_delete();
