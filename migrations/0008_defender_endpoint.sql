-- Defender for Endpoint (issue 7): device inventory, per-tenant API pacing, long-running action steps,
-- protected devices in the tenant policy.

-- Machines as Defender reports them (reference §5.2), synced per tenant; stale rows are kept, since
-- duplicate and stale records are what makes a name ambiguous.
CREATE TABLE devices (
  tenant_id uuid NOT NULL REFERENCES tenants (id),
  machine_id text NOT NULL,
  computer_dns_name text,
  aad_device_id text,
  os_platform text,
  os_version text,
  health_status text,
  onboarding_status text,
  risk_score text,
  exposure_level text,
  last_ip_address text,
  machine_tags text[] NOT NULL DEFAULT '{}',
  first_seen timestamptz,
  last_seen timestamptz,
  raw jsonb NOT NULL,
  synced_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, machine_id)
);
CREATE INDEX devices_tenant_dns_idx ON devices (tenant_id, lower(computer_dns_name));
CREATE INDEX devices_tenant_short_name_idx ON devices (tenant_id, lower(split_part(computer_dns_name, '.', 1)));
CREATE INDEX devices_tenant_aad_idx ON devices (tenant_id, lower(aad_device_id));

-- Pacing of Defender calls per tenant and API (100/min, 1,500/h, trap 20), shared by every replica:
-- each row is a call slot booked at `at` (possibly in the future), appended in time order.
CREATE TABLE defender_api_slots (
  id bigserial PRIMARY KEY,
  tenant_id uuid NOT NULL REFERENCES tenants (id),
  api text NOT NULL,
  at timestamptz NOT NULL
);
CREATE INDEX defender_api_slots_tenant_api_at_idx ON defender_api_slots (tenant_id, api, at);

-- Long-running steps: what the step needs to carry between polls, and when it is next due.
ALTER TABLE action_steps ADD COLUMN state jsonb;
ALTER TABLE action_steps ADD COLUMN next_poll_at timestamptz;

-- Devices never acted on: machine ids, Entra device ids or DNS names (lower-case), and Defender machine tags.
ALTER TABLE tenant_policies ADD COLUMN protected_devices text[] NOT NULL DEFAULT '{}';
ALTER TABLE tenant_policies ADD COLUMN protected_device_tags text[] NOT NULL DEFAULT '{}';
