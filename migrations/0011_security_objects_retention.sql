-- Retention of Defender alerts and incidents: an object Microsoft has not updated for
-- CORDON_EVENTS_RETENTION_DAYS is removed by the daily retention job, like events. These indexes let it
-- find them without scanning the tables.
CREATE INDEX security_alerts_last_update_idx ON security_alerts (last_update_at);
CREATE INDEX security_incidents_last_update_idx ON security_incidents (last_update_at);
