-- Issue 20: live response. The tenant policy lists the live-response library scripts device.run-script may
-- run (empty: none), and whether running one always waits for a second responder's approval ('always', the
-- default) or only when approvalRequired names device.run-script ('policy').
ALTER TABLE tenant_policies ADD COLUMN live_response_scripts text[] NOT NULL DEFAULT '{}';
ALTER TABLE tenant_policies ADD COLUMN run_script_approval text NOT NULL DEFAULT 'always'
  CONSTRAINT tenant_policies_run_script_approval_check CHECK (run_script_approval IN ('always', 'policy'));
