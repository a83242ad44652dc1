CREATE TABLE tenants (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    max_accounts BIGINT,
    daily_message_quota BIGINT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'member')),
    is_platform_admin BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX users_tenant_idx ON users (tenant_id, id);

CREATE TABLE refresh_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);

CREATE TABLE api_keys (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('admin', 'member')),
    created_by BIGINT REFERENCES users (id) ON DELETE SET NULL,
    last_used_at TIMESTAMP,
    revoked_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX api_keys_tenant_idx ON api_keys (tenant_id, id);

CREATE TABLE accounts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    provider TEXT NOT NULL CHECK (provider IN ('meta', 'tata', 'sandbox')),
    status TEXT NOT NULL DEFAULT 'pending_setup'
        CHECK (status IN ('pending_setup', 'active', 'suspended', 'error', 'needs_reauth')),
    setup_step INTEGER NOT NULL DEFAULT 0 CHECK (setup_step BETWEEN 0 AND 6),
    waba_id TEXT,
    meta_business_account_id TEXT,
    app_id TEXT,
    app_secret_enc TEXT,
    access_token_enc TEXT,
    access_token_hint TEXT,
    verify_token_enc TEXT,
    tata_auth_token_enc TEXT,
    tata_base_url TEXT,
    webhook_key TEXT NOT NULL UNIQUE,
    business_profile TEXT NOT NULL DEFAULT '{}',
    bot_settings TEXT NOT NULL DEFAULT '{}',
    subscribed_events TEXT NOT NULL DEFAULT '[]',
    limit_per_second DOUBLE,
    limit_per_minute BIGINT,
    limit_per_day BIGINT,
    limit_per_month BIGINT,
    health_status TEXT NOT NULL DEFAULT 'unknown',
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX accounts_tenant_idx ON accounts (tenant_id, id);

CREATE TABLE phone_numbers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    phone_number TEXT NOT NULL,
    provider_phone_number_id TEXT UNIQUE,
    display_phone_number TEXT NOT NULL,
    verified_name TEXT,
    quality_rating TEXT NOT NULL DEFAULT 'UNKNOWN'
        CHECK (quality_rating IN ('GREEN', 'YELLOW', 'RED', 'UNKNOWN')),
    messaging_limit_tier TEXT,
    throughput_mps DOUBLE NOT NULL,
    status TEXT NOT NULL DEFAULT 'PENDING',
    is_default BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (account_id, phone_number)
);
CREATE INDEX phone_numbers_tenant_idx ON phone_numbers (tenant_id, id);
