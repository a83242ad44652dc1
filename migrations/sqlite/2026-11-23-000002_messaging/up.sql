CREATE TABLE templates (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    language TEXT NOT NULL,
    category TEXT NOT NULL CHECK (category IN ('MARKETING', 'UTILITY', 'AUTHENTICATION')),
    status TEXT NOT NULL DEFAULT 'DRAFT',
    rejection_reason TEXT,
    provider_template_id TEXT,
    components TEXT NOT NULL DEFAULT '[]',
    parameter_format TEXT NOT NULL DEFAULT 'POSITIONAL' CHECK (parameter_format IN ('POSITIONAL', 'NAMED')),
    quality_score TEXT,
    previous_category TEXT,
    submitted_at TIMESTAMP,
    synced_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (account_id, name, language)
);
CREATE INDEX templates_tenant_idx ON templates (tenant_id, id);

CREATE TABLE messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    phone_number_id BIGINT NOT NULL REFERENCES phone_numbers (id) ON DELETE CASCADE,
    direction TEXT NOT NULL CHECK (direction IN ('outbound', 'inbound')),
    recipient TEXT NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL
        CHECK (status IN ('queued', 'sending', 'sent', 'delivered', 'read', 'failed', 'unknown', 'received')),
    provider_message_id TEXT UNIQUE,
    error_code TEXT,
    error_title TEXT,
    error_detail TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    claimed_by TEXT,
    claimed_at TIMESTAMP,
    idempotency_key TEXT,
    campaign_id BIGINT,
    template_name TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP,
    delivered_at TIMESTAMP,
    read_at TIMESTAMP,
    failed_at TIMESTAMP,
    UNIQUE (tenant_id, idempotency_key)
);
CREATE INDEX messages_due_idx ON messages (status, next_attempt_at, id);
CREATE INDEX messages_tenant_idx ON messages (tenant_id, id);
CREATE INDEX messages_recipient_idx ON messages (tenant_id, recipient, id);

CREATE TABLE message_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id BIGINT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    detail TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX message_events_message_idx ON message_events (message_id, id);

CREATE TABLE flows (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    categories TEXT NOT NULL DEFAULT '["OTHER"]',
    status TEXT NOT NULL DEFAULT 'DRAFT',
    provider_flow_id TEXT,
    flow_json TEXT,
    validation_errors TEXT NOT NULL DEFAULT '[]',
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX flows_tenant_idx ON flows (tenant_id, id);

CREATE TABLE health_logs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    status TEXT NOT NULL CHECK (status IN ('healthy', 'degraded', 'unhealthy')),
    response_time_ms BIGINT NOT NULL,
    details TEXT NOT NULL DEFAULT '{}',
    error TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX health_logs_account_idx ON health_logs (account_id, id);

CREATE TABLE usage_daily (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    day DATE NOT NULL,
    sent BIGINT NOT NULL DEFAULT 0,
    delivered BIGINT NOT NULL DEFAULT 0,
    read BIGINT NOT NULL DEFAULT 0,
    failed BIGINT NOT NULL DEFAULT 0,
    inbound BIGINT NOT NULL DEFAULT 0,
    UNIQUE (account_id, day)
);
CREATE INDEX usage_daily_tenant_idx ON usage_daily (tenant_id, day);

CREATE TABLE opt_outs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    phone TEXT NOT NULL,
    reason TEXT,
    source TEXT NOT NULL DEFAULT 'api',
    created_at TIMESTAMP NOT NULL,
    UNIQUE (tenant_id, phone)
);
