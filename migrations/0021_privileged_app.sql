-- Issue 22: a second app registration in the same Microsoft tenant, for the permissions that let an app grant
-- itself more (AppRoleAssignment.ReadWrite.All, Application.ReadWrite.All, DelegatedPermissionGrant.ReadWrite.All).
-- When a tenant has one, the capabilities that need those permissions are probed, and their steps run, with
-- this app's token; the main registration then need not hold them. Sealed like the main credential (AES-GCM
-- under the credential vault's key, bound to '<tenant id>/privileged').
CREATE TABLE tenant_privileged_apps (
  tenant_id uuid PRIMARY KEY CONSTRAINT tenant_privileged_apps_tenant_id_fkey REFERENCES tenants (id),
  client_id uuid NOT NULL,
  credential_type text NOT NULL CONSTRAINT tenant_privileged_apps_credential_type_known CHECK (credential_type IN ('secret', 'certificate')),
  credential_ciphertext bytea NOT NULL,
  credential_key_id text NOT NULL,
  certificate_thumbprint text,
  certificate_expires_at timestamptz,
  updated_by text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
