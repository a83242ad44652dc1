-- The inbox: inbound messages linked to their lead, when the contact sent them (the
-- customer-service window starts then), the pricing Meta reports for a sent message, billable
-- counts per category, and Flow submissions.
ALTER TABLE messages ADD COLUMN lead_id BIGINT REFERENCES leads (id) ON DELETE SET NULL;
ALTER TABLE messages ADD COLUMN pricing_category TEXT;
ALTER TABLE messages ADD COLUMN pricing_type TEXT;
ALTER TABLE messages ADD COLUMN pricing_model TEXT;
ALTER TABLE messages ADD COLUMN billable BOOLEAN;
-- An inbound message's sent_at is the provider's timestamp: when the contact sent it.
UPDATE messages SET sent_at = next_attempt_at WHERE direction = 'inbound' AND sent_at IS NULL;
CREATE INDEX messages_window_idx ON messages (account_id, recipient, direction, sent_at);
CREATE INDEX messages_lead_idx ON messages (lead_id);

CREATE TABLE usage_billable (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    day DATE NOT NULL,
    category TEXT NOT NULL,
    count BIGINT NOT NULL DEFAULT 0,
    UNIQUE (account_id, day, category)
);
CREATE INDEX usage_billable_tenant_idx ON usage_billable (tenant_id, day);

-- A completed Flow (an inbound nfm_reply), linked to the flow we sent when it can be found.
CREATE TABLE flow_submissions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    flow_id BIGINT REFERENCES flows (id) ON DELETE SET NULL,
    message_id BIGINT NOT NULL UNIQUE REFERENCES messages (id) ON DELETE CASCADE,
    lead_id BIGINT REFERENCES leads (id) ON DELETE SET NULL,
    phone TEXT NOT NULL,
    flow_token TEXT,
    response_json TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX flow_submissions_flow_idx ON flow_submissions (flow_id, id);
