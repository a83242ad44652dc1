-- Redeliveries are recognised when an event is applied, not when it is stored: a unique index on a
-- random hash would make every acknowledged body touch a random index page before its 200.
-- SQLite cannot drop a column's UNIQUE, so the table is rebuilt.
CREATE TABLE webhook_events_new (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id BIGINT REFERENCES tenants (id) ON DELETE CASCADE,
    account_id BIGINT REFERENCES accounts (id) ON DELETE CASCADE,
    provider TEXT NOT NULL CHECK (provider IN ('meta', 'tata', 'sandbox')),
    kind TEXT NOT NULL,
    dedupe_key TEXT NOT NULL,
    signature_valid BOOLEAN NOT NULL,
    quarantined BOOLEAN NOT NULL DEFAULT FALSE,
    payload TEXT NOT NULL,
    received_at TIMESTAMP NOT NULL,
    claimed_at TIMESTAMP,
    processed_at TIMESTAMP,
    process_error TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    duplicate_of BIGINT
);
INSERT INTO webhook_events_new (id, tenant_id, account_id, provider, kind, dedupe_key, signature_valid,
    quarantined, payload, received_at, claimed_at, processed_at, process_error, attempts)
SELECT id, tenant_id, account_id, provider, kind, dedupe_key, signature_valid,
    quarantined, payload, received_at, claimed_at, processed_at, process_error, attempts
FROM webhook_events;
DROP TABLE webhook_events;
ALTER TABLE webhook_events_new RENAME TO webhook_events;
CREATE INDEX webhook_events_tenant_idx ON webhook_events (tenant_id, id);
-- The processor takes waiting events oldest first: index only those.
CREATE INDEX webhook_events_pending_idx ON webhook_events (id) WHERE processed_at IS NULL AND NOT quarantined;
CREATE TABLE webhook_dedupe (
    dedupe_key TEXT PRIMARY KEY NOT NULL,
    event_id BIGINT NOT NULL REFERENCES webhook_events (id) ON DELETE CASCADE
);
CREATE INDEX webhook_dedupe_event_idx ON webhook_dedupe (event_id);
INSERT INTO webhook_dedupe (dedupe_key, event_id) SELECT dedupe_key, id FROM webhook_events;
