-- Issue 19: the tenant policy names the group its containment actions add users to (for example the
-- group a Conditional Access policy blocks). Null: no containment group, the steps that need it are skipped.
ALTER TABLE tenant_policies ADD COLUMN containment_group_id uuid;
