-- Template campaigns and their per-recipient ledger.
CREATE TABLE campaigns (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    phone_number_id BIGINT NOT NULL REFERENCES phone_numbers (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    template_name TEXT NOT NULL,
    template_language TEXT NOT NULL,
    -- JSON: header media, variable mapping, CTA buttons, audience.
    definition TEXT NOT NULL,
    -- Same definition (account, template, audience) = same hash: a re-run skips who already got it.
    definition_hash TEXT NOT NULL,
    rate_mps DOUBLE PRECISION NOT NULL,
    status TEXT NOT NULL DEFAULT 'draft'
        CHECK (status IN ('draft', 'running', 'paused', 'halted', 'completed', 'cancelled')),
    halt_reason TEXT,
    halt_detail TEXT,
    -- JSON: audience exclusions that have no recipient row (invalid numbers, duplicates, over the limit).
    exclusions TEXT NOT NULL DEFAULT '{}',
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    started_at TIMESTAMP,
    finished_at TIMESTAMP
);
CREATE INDEX campaigns_tenant_idx ON campaigns (tenant_id, id);
CREATE INDEX campaigns_status_idx ON campaigns (status);
CREATE INDEX campaigns_hash_idx ON campaigns (tenant_id, definition_hash);

CREATE TABLE campaign_recipients (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    campaign_id BIGINT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    phone TEXT NOT NULL,
    lead_id BIGINT,
    project_id BIGINT,
    call_status TEXT,
    -- The message exactly as it will be sent (template body JSON), frozen at start.
    payload TEXT NOT NULL,
    -- pending: not yet handed to the outbox; queued: its message exists (message_id); skipped: never sent.
    status TEXT NOT NULL CHECK (status IN ('pending', 'queued', 'skipped')),
    skip_reason TEXT,
    message_id BIGINT,
    created_at TIMESTAMP NOT NULL,
    queued_at TIMESTAMP,
    UNIQUE (campaign_id, phone)
);
CREATE INDEX campaign_recipients_status_idx ON campaign_recipients (campaign_id, status, id);
CREATE INDEX campaign_recipients_phone_idx ON campaign_recipients (tenant_id, phone);
CREATE INDEX messages_campaign_idx ON messages (campaign_id, status);
