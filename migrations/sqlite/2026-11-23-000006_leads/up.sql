-- Projects, leads with their notes, and IVR call logs.
CREATE TABLE projects (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    brochure_url TEXT,
    deep_link_base_url TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (tenant_id, name)
);

-- An IVR number belongs to one project of one tenant.
CREATE TABLE project_ivr_numbers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    project_id BIGINT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    number TEXT NOT NULL,
    UNIQUE (tenant_id, number)
);
CREATE INDEX project_ivr_numbers_project_idx ON project_ivr_numbers (project_id);

CREATE TABLE leads (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    project_id BIGINT REFERENCES projects (id) ON DELETE SET NULL,
    name TEXT,
    phone TEXT NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('ivr', 'api', 'csv', 'whatsapp')),
    status TEXT NOT NULL DEFAULT 'new'
        CHECK (status IN ('new', 'contacted', 'interested', 'not_interested', 'converted')),
    stage TEXT,
    follow_up BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (tenant_id, phone)
);
CREATE INDEX leads_tenant_idx ON leads (tenant_id, id);

CREATE TABLE lead_notes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    lead_id BIGINT NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
    source TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX lead_notes_lead_idx ON lead_notes (lead_id, id);

CREATE TABLE ivr_calls (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    caller_id_number TEXT NOT NULL,
    call_to_number TEXT NOT NULL,
    duration BIGINT NOT NULL CHECK (duration >= 0),
    start_stamp TIMESTAMP NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('answered', 'missed')),
    -- NULL when the caller id is not a valid phone number (kept, counted as invalid by campaigns).
    lead_id BIGINT REFERENCES leads (id) ON DELETE SET NULL,
    project_id BIGINT REFERENCES projects (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (tenant_id, caller_id_number, start_stamp)
);
CREATE INDEX ivr_calls_start_idx ON ivr_calls (tenant_id, start_stamp);
CREATE INDEX ivr_calls_lead_idx ON ivr_calls (lead_id);
