-- CTA clicks (tracked links and quick replies), counted by engagement analytics.
CREATE TABLE cta_clicks (
    id BIGSERIAL PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    lead_id BIGINT NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
    -- The campaign whose message carried the link or button, when known.
    campaign_id BIGINT,
    action TEXT NOT NULL CHECK (action IN ('interested', 'not_interested')),
    via TEXT NOT NULL CHECK (via IN ('url', 'quick_reply')),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX cta_clicks_tenant_idx ON cta_clicks (tenant_id, created_at);
CREATE INDEX cta_clicks_lead_idx ON cta_clicks (lead_id);
-- Sent messages per campaign, for engagement analytics.
CREATE INDEX messages_engagement_idx ON messages (tenant_id, campaign_id, created_at);
