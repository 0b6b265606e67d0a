-- A request's hold on its Idempotency-Key, and the action it recorded (ARCHITECTURE.md §4.4). The request
-- that claimed a key renews `held_until` while it runs; once that lapses (its process died) a retry with
-- the same key and request takes the key over at once, and, when the dead request had already recorded
-- an action (`action_id`), carries on with that action instead of recording a second one.
ALTER TABLE idempotency_keys
  ADD COLUMN held_until timestamptz,
  ADD COLUMN action_id uuid;

-- Requests recorded but not yet admitted (no resolved target): the recovery sweep looks for those whose
-- admitting process stopped renewing its lease.
CREATE INDEX actions_unadmitted_idx ON actions (lease_until) WHERE status = 'queued' AND NOT (target ? 'id');
