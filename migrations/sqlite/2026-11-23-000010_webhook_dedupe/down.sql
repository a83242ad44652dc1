DROP TABLE webhook_dedupe;
DROP INDEX webhook_events_pending_idx;
CREATE INDEX webhook_events_pending_idx ON webhook_events (processed_at, quarantined, id);
DELETE FROM webhook_events WHERE duplicate_of IS NOT NULL;
DELETE FROM webhook_events WHERE EXISTS (
    SELECT 1 FROM webhook_events f WHERE f.dedupe_key = webhook_events.dedupe_key AND f.id < webhook_events.id
);
CREATE UNIQUE INDEX webhook_events_dedupe_key_idx ON webhook_events (dedupe_key);
ALTER TABLE webhook_events DROP COLUMN duplicate_of;
