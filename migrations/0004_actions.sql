-- Response actions (API.md "Response actions"): the action, its steps, and idempotency keys.
CREATE TABLE actions (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants (id),
  type text NOT NULL,
  -- The target as requested and, once resolved, what it resolved to ({ requested, id, display, ... }).
  target jsonb NOT NULL,
  -- Lower-case key used by the ?target= filter: the resolved object id when known, else what was asked.
  target_key text NOT NULL,
  status text NOT NULL,
  reason text NOT NULL,
  ticket text,
  dry_run boolean NOT NULL DEFAULT false,
  params jsonb NOT NULL DEFAULT '{}',
  requested_by jsonb NOT NULL,
  requested_by_id text NOT NULL,
  approved_by jsonb,
  decided_by jsonb,
  decision_reason text,
  result jsonb,
  error jsonb,
  -- Exclusive execution: the process holding the lease runs the steps; an expired lease may be taken over.
  lease_owner text,
  lease_until timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  completed_at timestamptz,
  CONSTRAINT actions_status_known CHECK (status IN ('awaiting_approval', 'queued', 'running', 'succeeded', 'partially_succeeded', 'failed', 'rejected', 'cancelled')),
  CONSTRAINT actions_reason_length CHECK (char_length(reason) BETWEEN 1 AND 1000)
);

CREATE INDEX actions_created_idx ON actions (created_at, id);
CREATE INDEX actions_tenant_created_idx ON actions (tenant_id, created_at, id);
-- Hourly caps count recent actions of a type per tenant.
CREATE INDEX actions_tenant_type_created_idx ON actions (tenant_id, type, created_at);
-- Recovery finds unfinished work.
CREATE INDEX actions_unfinished_idx ON actions (status, lease_until) WHERE status IN ('queued', 'running');

CREATE TABLE action_steps (
  action_id uuid NOT NULL REFERENCES actions (id),
  position integer NOT NULL,
  name text NOT NULL,
  status text NOT NULL,
  attempts integer NOT NULL DEFAULT 0,
  started_at timestamptz,
  finished_at timestamptz,
  microsoft_request_id text,
  detail jsonb,
  error jsonb,
  PRIMARY KEY (action_id, position),
  CONSTRAINT action_steps_status_known CHECK (status IN ('pending', 'running', 'succeeded', 'failed', 'skipped'))
);

-- Idempotency-Key (API.md): one row per principal and key, kept at least 24 hours.
CREATE TABLE idempotency_keys (
  principal_id text NOT NULL,
  key text NOT NULL,
  request_hash bytea NOT NULL,
  state text NOT NULL,
  response_status integer,
  response_body jsonb,
  response_headers jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (principal_id, key),
  CONSTRAINT idempotency_keys_state_known CHECK (state IN ('in_progress', 'completed'))
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
