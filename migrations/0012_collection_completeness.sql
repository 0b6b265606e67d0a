-- Every content blob Microsoft lists is in the ledger from the moment it is listed ('listed'), with its
-- stream, so a run can prove that what Microsoft listed for a window equals what was stored or reported
-- as a gap before the cursor moves past it, and the status can count listed / stored / gaps / pending
-- and the records stored and duplicated per blob over the last 7 days.
ALTER TABLE collection_ledger ADD COLUMN stream text;
ALTER TABLE collection_ledger ADD COLUMN listed_at timestamptz;
ALTER TABLE collection_ledger ADD COLUMN records integer;
ALTER TABLE collection_ledger ADD COLUMN duplicates integer;
ALTER TABLE collection_ledger DROP CONSTRAINT collection_ledger_status_known;
ALTER TABLE collection_ledger ADD CONSTRAINT collection_ledger_status_known CHECK (status IN ('listed', 'done', 'failed', 'gap'));
-- Entries from before this migration: a Management Activity contentId names its content type
-- (`…$audit_exchange$Audit_Exchange$…`); they count as listed when they were last updated.
UPDATE collection_ledger
   SET stream = replace(split_part(content_id, '$', 4), '_', '.'), listed_at = updated_at
 WHERE source = 'management-activity' AND split_part(content_id, '$', 4) <> '';
CREATE INDEX collection_ledger_stream_listed_idx ON collection_ledger (tenant_id, source, stream, listed_at);

-- A listing cut short (throttled, failed, interrupted): the window, how far it got and where the next
-- run resumes it. NULL when the last listing finished.
ALTER TABLE collection_streams ADD COLUMN listing jsonb;
