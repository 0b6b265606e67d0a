-- Microsoft 365 tenants Cordon works on (API.md "Tenants"), their probed capabilities and policies.
CREATE TABLE tenants (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  display_name text NOT NULL,
  microsoft_tenant_id uuid NOT NULL,
  cloud text NOT NULL,
  client_id uuid NOT NULL,
  credential_type text NOT NULL,
  -- AES-256-GCM: 12-byte IV ‖ ciphertext ‖ 16-byte tag, bound to the row id as associated data.
  credential_ciphertext bytea NOT NULL,
  credential_key_id text NOT NULL,
  -- Public facts about a certificate credential (never the key).
  certificate_thumbprint text,
  certificate_expires_at timestamptz,
  enabled boolean NOT NULL DEFAULT true,
  connection_status text NOT NULL DEFAULT 'pending',
  connection_detail text,
  connection_checked_at timestamptz,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz,
  CONSTRAINT tenants_cloud_known CHECK (cloud IN ('global', 'usgov-gcc', 'usgov-gcchigh', 'usgov-dod', 'china')),
  CONSTRAINT tenants_credential_type_known CHECK (credential_type IN ('secret', 'certificate')),
  CONSTRAINT tenants_connection_status_known CHECK (connection_status IN ('pending', 'connected', 'credential-error', 'unreachable')),
  CONSTRAINT tenants_display_name_length CHECK (char_length(display_name) BETWEEN 1 AND 200)
);

-- One live registration per app in a Microsoft tenant; a deleted one may be registered again.
CREATE UNIQUE INDEX tenants_microsoft_app_live_idx ON tenants (microsoft_tenant_id, client_id) WHERE deleted_at IS NULL;
CREATE INDEX tenants_created_at_id_idx ON tenants (created_at, id);

CREATE TABLE tenant_capabilities (
  tenant_id uuid NOT NULL REFERENCES tenants (id),
  capability text NOT NULL,
  status text NOT NULL,
  detail text,
  checked_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, capability),
  CONSTRAINT tenant_capabilities_status_known CHECK (status IN ('available', 'unlicensed', 'forbidden', 'unreachable'))
);

CREATE TABLE tenant_policies (
  tenant_id uuid PRIMARY KEY REFERENCES tenants (id),
  -- Never acted on: user object ids or UPNs (lower-case), and group object ids whose members are protected.
  protected_users text[] NOT NULL DEFAULT '{}',
  protected_groups text[] NOT NULL DEFAULT '{}',
  -- Action types (e.g. user.disable) that wait for a second responder's approval.
  approval_required text[] NOT NULL DEFAULT '{}',
  -- { "<action type>": <max per hour> } for destructive actions.
  hourly_limits jsonb NOT NULL DEFAULT '{}',
  updated_by text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
