-- Telemetry collection (issue 8): per-tenant collection streams, their runs, reported gaps, the ledger
-- of processed content, and the shared events store (API.md "Telemetry").

-- One row per tenant × source × stream (for the Management Activity API, a stream is a content type).
CREATE TABLE collection_streams (
  tenant_id uuid NOT NULL REFERENCES tenants (id),
  source text NOT NULL,
  stream text NOT NULL,
  enabled boolean NOT NULL DEFAULT true,
  interval_minutes integer NOT NULL,
  -- Last known subscription state at the provider (unknown until the first run).
  subscription_status text NOT NULL DEFAULT 'unknown',
  -- Everything the provider made available before this instant has been stored (or reported as a gap).
  cursor timestamptz,
  next_run_at timestamptz NOT NULL DEFAULT now(),
  newest_record_at timestamptz,
  last_error text,
  last_error_at timestamptz,
  -- One run at a time per stream, across replicas: the runner holds this lease and renews it while it
  -- works; a runner that dies stops renewing, and the next run may start once it lapses.
  lease_owner text,
  lease_until timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, source, stream),
  CONSTRAINT collection_streams_interval_range CHECK (interval_minutes BETWEEN 1 AND 1440),
  CONSTRAINT collection_streams_subscription_known CHECK (subscription_status IN ('unknown', 'enabled', 'disabled', 'missing', 'unavailable'))
);

CREATE TABLE collection_runs (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants (id),
  source text NOT NULL,
  stream text NOT NULL,
  trigger text NOT NULL,
  status text NOT NULL DEFAULT 'running',
  started_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz,
  window_start timestamptz,
  window_end timestamptz,
  fetched integer NOT NULL DEFAULT 0,
  inserted integer NOT NULL DEFAULT 0,
  duplicates integer NOT NULL DEFAULT 0,
  blobs integer NOT NULL DEFAULT 0,
  gaps integer NOT NULL DEFAULT 0,
  error text,
  CONSTRAINT collection_runs_trigger_known CHECK (trigger IN ('schedule', 'manual')),
  CONSTRAINT collection_runs_status_known CHECK (status IN ('running', 'succeeded', 'failed', 'throttled'))
);
CREATE INDEX collection_runs_stream_started_idx ON collection_runs (tenant_id, source, stream, started_at DESC);

-- Data Cordon knows it could not collect: expired content (AF20051), blobs that kept failing, windows
-- older than the provider keeps. Never silent.
CREATE TABLE collection_gaps (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants (id),
  source text NOT NULL,
  stream text NOT NULL,
  reason text NOT NULL,
  content_id text,
  window_start timestamptz,
  window_end timestamptz,
  detail text,
  detected_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT collection_gaps_reason_known CHECK (reason IN ('expired', 'failed', 'beyond-retention'))
);
CREATE INDEX collection_gaps_stream_detected_idx ON collection_gaps (tenant_id, source, stream, detected_at DESC);

-- Content units (blobs) already handled, so each is fetched once; failed ones count their attempts.
CREATE TABLE collection_ledger (
  tenant_id uuid NOT NULL REFERENCES tenants (id),
  source text NOT NULL,
  content_id text NOT NULL,
  status text NOT NULL,
  attempts integer NOT NULL DEFAULT 0,
  content_created timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, source, content_id),
  CONSTRAINT collection_ledger_status_known CHECK (status IN ('done', 'failed', 'gap'))
);
CREATE INDEX collection_ledger_updated_idx ON collection_ledger (updated_at);

-- The shared events store: every collected record, normalized columns plus the raw record.
CREATE TABLE events (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants (id),
  source text NOT NULL,
  stream text NOT NULL,
  record_id text NOT NULL,
  occurred_at timestamptz NOT NULL,
  workload text,
  record_type integer,
  operation text,
  result_status text,
  user_id text,
  user_type integer,
  client_ip inet,
  object_id text,
  raw jsonb NOT NULL,
  collected_at timestamptz NOT NULL DEFAULT now()
);
-- Microsoft delivers duplicates: one row per record whatever the number of deliveries.
CREATE UNIQUE INDEX events_dedupe_idx ON events (tenant_id, source, record_id);
-- Keyset paging (occurred_at DESC, id DESC), unfiltered, per tenant, and per selective filter.
CREATE INDEX events_occurred_idx ON events (occurred_at, id);
CREATE INDEX events_tenant_occurred_idx ON events (tenant_id, occurred_at, id);
CREATE INDEX events_user_occurred_idx ON events (user_id, occurred_at, id) WHERE user_id IS NOT NULL;
CREATE INDEX events_ip_occurred_idx ON events (client_ip, occurred_at, id) WHERE client_ip IS NOT NULL;
CREATE INDEX events_operation_occurred_idx ON events (operation, occurred_at, id);
