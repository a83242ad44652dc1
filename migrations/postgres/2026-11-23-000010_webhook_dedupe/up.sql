-- Redeliveries are recognised when an event is applied, not when it is stored: a unique index on a
-- random hash would make every acknowledged body touch a random index page before its 200.
ALTER TABLE webhook_events DROP CONSTRAINT webhook_events_dedupe_key_key;
ALTER TABLE webhook_events ADD COLUMN duplicate_of BIGINT;
-- The processor takes waiting events oldest first: index only those.
DROP INDEX webhook_events_pending_idx;
CREATE INDEX webhook_events_pending_idx ON webhook_events (id) WHERE processed_at IS NULL AND NOT quarantined;
CREATE TABLE webhook_dedupe (
    dedupe_key TEXT PRIMARY KEY,
    event_id BIGINT NOT NULL REFERENCES webhook_events (id) ON DELETE CASCADE
);
CREATE INDEX webhook_dedupe_event_idx ON webhook_dedupe (event_id);
INSERT INTO webhook_dedupe (dedupe_key, event_id) SELECT dedupe_key, id FROM webhook_events;
