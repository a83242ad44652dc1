DROP TABLE webhook_dedupe;
DROP INDEX webhook_events_pending_idx;
CREATE INDEX webhook_events_pending_idx ON webhook_events (processed_at, quarantined, id);
DELETE FROM webhook_events WHERE duplicate_of IS NOT NULL;
DELETE FROM webhook_events e WHERE EXISTS (
    SELECT 1 FROM webhook_events f WHERE f.dedupe_key = e.dedupe_key AND f.id < e.id
);
ALTER TABLE webhook_events DROP COLUMN duplicate_of;
ALTER TABLE webhook_events ADD CONSTRAINT webhook_events_dedupe_key_key UNIQUE (dedupe_key);
