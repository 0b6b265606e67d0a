-- Defender XDR alerts and incidents collected through Microsoft Graph (issue 9), and the per-tenant
-- outbound webhook that tells playbooks about new and changed ones.
--
-- Why tables of their own, not the events store: an alert or an incident is a *stateful object* that
-- Microsoft changes in place (status, severity, classification, assignment, evidence) under the same
-- id, and `lastUpdateDateTime` says which version is newer. The events store is append-only and keeps
-- the first delivery of a record id, so a resolved alert would still read "new" there. These tables
-- keep one row per (tenant, Microsoft id), upserted: a newer version replaces the row, an older or
-- identical one changes nothing (that is also what decides whether the webhook is called).

CREATE TABLE security_alerts (
  tenant_id uuid NOT NULL REFERENCES tenants (id),
  -- Microsoft's alert id, passed through as given.
  id text NOT NULL,
  incident_id text,
  provider_alert_id text,
  -- Open enums (reference §3.2, trap 10): any value Microsoft sends is kept, never rejected; stored
  -- with a lower-case first letter (the docs show PascalCase and camelCase for the same members).
  service_source text,
  detection_source text,
  severity text,
  status text,
  classification text,
  determination text,
  title text,
  category text,
  created_at timestamptz NOT NULL,
  last_update_at timestamptz NOT NULL,
  resolved_at timestamptz,
  -- The alert exactly as Microsoft delivered it (its latest version).
  raw jsonb NOT NULL,
  first_collected_at timestamptz NOT NULL DEFAULT now(),
  -- When Cordon last changed this row (a newer version arrived).
  collected_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);
-- Keyset paging (created_at DESC, tenant_id, id), unfiltered and per tenant; an incident's alerts.
CREATE INDEX security_alerts_created_idx ON security_alerts (created_at, tenant_id, id);
CREATE INDEX security_alerts_tenant_created_idx ON security_alerts (tenant_id, created_at, id);
CREATE INDEX security_alerts_incident_idx ON security_alerts (tenant_id, incident_id) WHERE incident_id IS NOT NULL;

CREATE TABLE security_incidents (
  tenant_id uuid NOT NULL REFERENCES tenants (id),
  -- Microsoft's incident id (a numeric string), passed through as given.
  id text NOT NULL,
  display_name text,
  severity text,
  status text,
  classification text,
  determination text,
  assigned_to text,
  redirect_incident_id text,
  created_at timestamptz NOT NULL,
  last_update_at timestamptz NOT NULL,
  raw jsonb NOT NULL,
  first_collected_at timestamptz NOT NULL DEFAULT now(),
  collected_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, id)
);
CREATE INDEX security_incidents_created_idx ON security_incidents (created_at, tenant_id, id);
CREATE INDEX security_incidents_tenant_created_idx ON security_incidents (tenant_id, created_at, id);

-- A collection run now also counts objects it changed in place (alerts, incidents); 0 for content blobs.
ALTER TABLE collection_runs ADD COLUMN updated integer NOT NULL DEFAULT 0;

-- One optional webhook per tenant. The secret is AES-256-GCM encrypted like tenant credentials
-- (with the tenant id as associated data) and never returned.
CREATE TABLE tenant_webhooks (
  tenant_id uuid PRIMARY KEY REFERENCES tenants (id),
  url text NOT NULL,
  secret_ciphertext bytea NOT NULL,
  secret_key_id text NOT NULL,
  min_severity text NOT NULL,
  updated_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT tenant_webhooks_min_severity_known CHECK (min_severity IN ('informational', 'low', 'medium', 'high'))
);

-- Every notification Cordon owes a receiver, written in the transaction that stored the change, and
-- what became of it (the delivery log). The body is fixed at creation, so retries send the same bytes.
CREATE TABLE webhook_deliveries (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id uuid NOT NULL REFERENCES tenants (id),
  event text NOT NULL,
  object_id text NOT NULL,
  severity text,
  url text NOT NULL,
  payload text NOT NULL,
  status text NOT NULL DEFAULT 'pending',
  attempts integer NOT NULL DEFAULT 0,
  last_status_code integer,
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_attempt_at timestamptz,
  delivered_at timestamptz,
  CONSTRAINT webhook_deliveries_event_known CHECK (event IN ('alert.created', 'alert.updated', 'incident.created', 'incident.updated')),
  CONSTRAINT webhook_deliveries_status_known CHECK (status IN ('pending', 'delivered', 'failed'))
);
-- The delivery log, newest first, per tenant.
CREATE INDEX webhook_deliveries_tenant_created_idx ON webhook_deliveries (tenant_id, created_at, id);
