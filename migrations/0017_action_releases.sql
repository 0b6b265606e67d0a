-- Issue 21: time-boxed containment. A containing action asked with releaseAfter / releaseAt gets one row
-- here, written by the statement that records its success (ActionsRepository.recordFinish, `also`): when
-- its inverse is due, its status, and the inverse action Cordon ran. The status only moves forward:
-- scheduled → running → released | failed, or scheduled → kept; a row is run by whoever moves it from
-- scheduled to running (the pg-boss job keyed by the action id, or the sweep for a job that was lost).
CREATE TABLE action_releases (
  action_id uuid PRIMARY KEY REFERENCES actions (id),
  tenant_id uuid NOT NULL REFERENCES tenants (id),
  release_type text NOT NULL,
  scheduled_at timestamptz NOT NULL,
  status text NOT NULL DEFAULT 'scheduled'
    CONSTRAINT action_releases_status_known CHECK (status IN ('scheduled', 'running', 'released', 'kept', 'failed')),
  release_action_id uuid REFERENCES actions (id),
  run_started_at timestamptz,
  extensions integer NOT NULL DEFAULT 0,
  extended_by jsonb,
  extended_at timestamptz,
  extend_reason text,
  kept_by jsonb,
  kept_at timestamptz,
  keep_reason text,
  error jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- The sweep's work: scheduled releases that are due, and runs that stopped.
CREATE INDEX action_releases_open_idx ON action_releases (scheduled_at) WHERE status IN ('scheduled', 'running');

-- The containments board's drift: what the last verification read back at Microsoft for a containment
-- (the containing action), when a cheap read exists for its type.
CREATE TABLE containment_checks (
  action_id uuid PRIMARY KEY REFERENCES actions (id),
  tenant_id uuid NOT NULL REFERENCES tenants (id),
  checked_at timestamptz NOT NULL,
  state text NOT NULL CONSTRAINT containment_checks_state_known CHECK (state IN ('holds', 'drifted', 'unknown', 'failed')),
  found text NOT NULL,
  detail jsonb
);

-- The board: the latest containing action per (tenant, type, target), and whether its inverse ran since.
CREATE INDEX actions_tenant_type_target_completed_idx ON actions (tenant_id, type, target_key, completed_at DESC) WHERE completed_at IS NOT NULL AND NOT dry_run;
