-- The action log (audit log): append-only and hash-chained, for auditors.
--
-- Every entry stores hash = SHA-256(prev_hash || canonical JSON of the entry) and the prev_hash it was
-- chained to (32 zero bytes for seq 1). Writers serialize on the single row of audit_chain_head
-- (SELECT ... FOR UPDATE inside their own transaction), so seq is gap-free and the chain is one line
-- even with many writers in many processes; a transaction that rolls back leaves neither an entry nor
-- a gap, because the head moves in the same transaction.
CREATE TABLE audit_log (
  seq bigint PRIMARY KEY,
  at timestamptz NOT NULL,
  event text NOT NULL,
  actor_type text NOT NULL,
  actor_id text NOT NULL,
  actor_name text NOT NULL,
  tenant_id uuid,
  action_id uuid,
  subject text,
  request_id text NOT NULL,
  data jsonb NOT NULL,
  prev_hash bytea NOT NULL,
  hash bytea NOT NULL,
  CONSTRAINT audit_log_actor_type_known CHECK (actor_type IN ('apiKey', 'user', 'system')),
  CONSTRAINT audit_log_hash_length CHECK (octet_length(hash) = 32 AND octet_length(prev_hash) = 32)
);

-- Filters of GET /v1/audit-log, each walking seq in order within its key.
CREATE INDEX audit_log_at_idx ON audit_log (at);
CREATE INDEX audit_log_tenant_seq_idx ON audit_log (tenant_id, seq) WHERE tenant_id IS NOT NULL;
CREATE INDEX audit_log_action_seq_idx ON audit_log (action_id, seq) WHERE action_id IS NOT NULL;
CREATE INDEX audit_log_actor_seq_idx ON audit_log (actor_id, seq);
CREATE INDEX audit_log_event_seq_idx ON audit_log (event, seq);

CREATE TABLE audit_chain_head (
  id boolean PRIMARY KEY DEFAULT true,
  seq bigint NOT NULL,
  hash bytea NOT NULL,
  CONSTRAINT audit_chain_head_single_row CHECK (id)
);
INSERT INTO audit_chain_head (id, seq, hash) VALUES (true, 0, decode(repeat('00', 32), 'hex'));

-- Append-only: UPDATE, DELETE and TRUNCATE are refused for everyone, the service included.
--
-- What this does not stop: a superuser or the table owner can `ALTER TABLE audit_log DISABLE TRIGGER
-- USER` (or drop the trigger) and then change, delete, reorder or insert rows. GET /v1/audit-log/verify
-- recomputes every hash from the stored fields and checks that seq has no gap and each prev_hash is the
-- hash before it, so any such change is reported with the first bad seq. Rewriting the whole chain
-- after a change (recomputing every later hash) is the one forgery the chain alone cannot expose:
-- auditors close that by keeping the head (`lastSeq`, `lastHash` from verify, or an export) outside the
-- database and comparing it later — the CloudTrail digest idea.
CREATE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();

-- The head row may move forward but never disappear.
CREATE TRIGGER audit_chain_head_no_delete BEFORE DELETE ON audit_chain_head
  FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change();
CREATE TRIGGER audit_chain_head_no_truncate BEFORE TRUNCATE ON audit_chain_head
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change();
