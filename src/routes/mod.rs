//! HTTP handlers, one folder per resource, all under `/api/v1` except the system probes
//! and the provider webhooks.

pub mod accounts;
pub mod admin;
pub mod analytics;
pub mod api_keys;
pub mod auth;
pub mod campaigns;
pub mod conversations;
pub mod flows;
pub mod ivr_calls;
pub mod leads;
pub mod messages;
pub mod opt_outs;
pub mod phone_numbers;
pub mod projects;
pub mod system;
pub mod templates;
pub mod track;
pub mod upload;
pub mod users;
pub mod webhook_endpoints;
pub mod webhooks;

use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

/// Registers every documented route.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.configure(system::configure);
    cfg.configure(webhooks::configure);
    cfg.configure(track::configure);
    cfg.service(
        scope::scope("/api/v1")
            .configure(auth::configure)
            .configure(users::configure)
            .configure(api_keys::configure)
            .configure(accounts::configure)
            .configure(phone_numbers::configure)
            .configure(templates::configure)
            .configure(flows::configure)
            .configure(messages::configure)
            .configure(conversations::configure)
            .configure(campaigns::configure)
            .configure(leads::configure)
            .configure(opt_outs::configure)
            .configure(projects::configure)
            .configure(ivr_calls::configure)
            .configure(analytics::configure)
            .configure(webhook_endpoints::configure)
            .configure(webhooks::events::configure)
            .configure(admin::configure),
    );
}

/// A stored UTC timestamp as an API timestamp.
pub fn utc(t: chrono::NaiveDateTime) -> chrono::DateTime<chrono::Utc> {
    t.and_utc()
}
