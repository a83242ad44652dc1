-- Daily rollups the analytics read instead of scanning messages.
CREATE TABLE usage_failures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    day DATE NOT NULL,
    code TEXT NOT NULL,
    count BIGINT NOT NULL DEFAULT 0,
    UNIQUE (account_id, day, code)
);
CREATE INDEX usage_failures_tenant_idx ON usage_failures (tenant_id, day);

CREATE TABLE usage_templates (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    day DATE NOT NULL,
    template_name TEXT NOT NULL,
    sent BIGINT NOT NULL DEFAULT 0,
    delivered BIGINT NOT NULL DEFAULT 0,
    read BIGINT NOT NULL DEFAULT 0,
    failed BIGINT NOT NULL DEFAULT 0,
    UNIQUE (account_id, day, template_name)
);
