-- API keys for SOAR playbooks and scripts (API.md "Authentication and roles").
-- The key itself is never stored: only its SHA-256 hash (bytea, unique) and a short display prefix.
CREATE TABLE api_keys (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name text NOT NULL,
  key_prefix text NOT NULL,
  key_hash bytea NOT NULL,
  roles text[] NOT NULL,
  -- NULL: every tenant; otherwise the Cordon tenant ids the key is limited to.
  tenant_ids uuid[],
  created_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz,
  revoked_at timestamptz,
  revoked_by text,
  last_used_at timestamptz,
  CONSTRAINT api_keys_key_hash_key UNIQUE (key_hash),
  CONSTRAINT api_keys_name_length CHECK (char_length(name) BETWEEN 1 AND 200),
  CONSTRAINT api_keys_roles_known CHECK (cardinality(roles) > 0 AND roles <@ ARRAY['auditor', 'analyst', 'responder', 'admin']::text[])
);

-- Listing is keyset-paged newest first.
CREATE INDEX api_keys_created_at_id_idx ON api_keys (created_at DESC, id DESC);
