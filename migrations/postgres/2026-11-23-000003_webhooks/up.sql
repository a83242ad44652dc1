CREATE TABLE webhook_events (
    id BIGSERIAL PRIMARY KEY,
    tenant_id BIGINT REFERENCES tenants (id) ON DELETE CASCADE,
    account_id BIGINT REFERENCES accounts (id) ON DELETE CASCADE,
    provider TEXT NOT NULL CHECK (provider IN ('meta', 'tata', 'sandbox')),
    kind TEXT NOT NULL,
    dedupe_key TEXT NOT NULL UNIQUE,
    signature_valid BOOLEAN NOT NULL,
    quarantined BOOLEAN NOT NULL DEFAULT FALSE,
    payload TEXT NOT NULL,
    received_at TIMESTAMP NOT NULL,
    claimed_at TIMESTAMP,
    processed_at TIMESTAMP,
    process_error TEXT,
    attempts INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX webhook_events_tenant_idx ON webhook_events (tenant_id, id);
CREATE INDEX webhook_events_pending_idx ON webhook_events (processed_at, quarantined, id);
