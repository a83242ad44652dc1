//! Queries, one module per resource. Every tenant-scoped query takes a `TenantId`.

pub mod accounts;
pub mod api_keys;
pub mod campaigns;
pub mod clicks;
pub mod conversations;
pub mod flow_submissions;
pub mod flows;
pub mod health_logs;
pub mod ivr_calls;
pub mod leads;
pub mod messages;
pub mod opt_outs;
pub mod outbox;
pub mod phone_numbers;
pub mod projects;
pub mod sessions;
pub mod statuses;
pub mod templates;
pub mod tenants;
pub mod usage;
pub mod users;
pub mod webhook_endpoints;
pub mod webhook_events;
