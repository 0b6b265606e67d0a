-- Purview audit searches (issue 9): Graph's asynchronous audit query, run and polled by a job, its
-- records stored as events with source `purview-search`. A search may backfill a collection gap.
CREATE TABLE purview_searches (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants (id),
  -- queued → submitted (created at Microsoft) → collecting (reading records) → succeeded | failed
  status text NOT NULL DEFAULT 'queued',
  -- Microsoft's own status of the query: notStarted, running, succeeded, failed, cancelled.
  microsoft_status text,
  -- The auditLogQuery id at Microsoft, once created.
  query_id text,
  filter_start timestamptz NOT NULL,
  filter_end timestamptz NOT NULL,
  record_types text[] NOT NULL DEFAULT '{}',
  users text[] NOT NULL DEFAULT '{}',
  operations text[] NOT NULL DEFAULT '{}',
  service text,
  -- Where reading the records resumes after a restart (the last @odata.nextLink not yet stored).
  next_link text,
  polls integer NOT NULL DEFAULT 0,
  fetched integer NOT NULL DEFAULT 0,
  inserted integer NOT NULL DEFAULT 0,
  duplicates integer NOT NULL DEFAULT 0,
  error text,
  -- A backfill: the collection gap this search covers.
  gap_id uuid REFERENCES collection_gaps (id),
  requested_by jsonb NOT NULL,
  -- One worker at a time per search, across replicas: held while a step runs, renewed while it works.
  lease_owner text,
  lease_until timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  completed_at timestamptz,
  CONSTRAINT purview_searches_status_known CHECK (status IN ('queued', 'submitted', 'collecting', 'succeeded', 'failed')),
  CONSTRAINT purview_searches_range CHECK (filter_start < filter_end)
);
CREATE INDEX purview_searches_tenant_created_idx ON purview_searches (tenant_id, created_at DESC, id DESC);
-- Searches still to finish, for the sweep that restarts their job chains.
CREATE INDEX purview_searches_open_idx ON purview_searches (updated_at) WHERE status NOT IN ('succeeded', 'failed');
-- One backfill per gap unless the previous one failed.
CREATE UNIQUE INDEX purview_searches_gap_idx ON purview_searches (gap_id) WHERE gap_id IS NOT NULL AND status <> 'failed';

-- Secure Score (issue 9): one row per tenant and Microsoft daily score, with its control profiles.
CREATE TABLE secure_score_snapshots (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants (id),
  score_id text NOT NULL,
  -- The day's score as Microsoft dated it.
  scored_at timestamptz NOT NULL,
  current_score double precision NOT NULL,
  max_score double precision NOT NULL,
  -- [{ name, category, score, state }] per control, merged from controlScores and the control profiles.
  controls jsonb NOT NULL,
  raw jsonb NOT NULL,
  profiles jsonb NOT NULL,
  collected_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX secure_score_snapshots_tenant_scored_idx ON secure_score_snapshots (tenant_id, scored_at);
