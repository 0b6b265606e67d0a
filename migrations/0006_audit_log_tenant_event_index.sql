-- Auditors filter a tenant's log by event ("every action of tenant X"): walk seq within
-- (tenant, event) instead of scanning all of the tenant's entries for the few that match.
CREATE INDEX audit_log_tenant_event_seq_idx ON audit_log (tenant_id, event, seq) WHERE tenant_id IS NOT NULL;
