//! Template campaigns: a stored definition (template, variables, CTA buttons, audience), audience
//! resolution and preview, materialised recipients, and a runner that hands them to the outbox at
//! the campaign's rate, each at most once (see README "Campaigns").

pub mod audience;
pub mod command;
pub mod control;
pub mod csv;
pub mod definition;
pub mod render;
pub mod runner;

pub use definition::Definition;

/// The seeds' name for a campaign halted by its number's quality.
pub const ERR_QUALITY_DEGRADED: &str = "ERR_QUALITY_DEGRADED";

/// Provider error names (as the outbox records them) that halt a campaign.
pub const HALTING_ERRORS: [&str; 3] = ["ERR_TEMPLATE_NOT_READY", "ERR_POLICY_VIOLATION", "ERR_QUALITY_DEGRADED"];

/// The idempotency key of a campaign's message to one phone: one message per (campaign, phone).
pub fn idempotency_key(campaign_id: i64, phone: &str) -> String {
    format!("campaign:{campaign_id}:{phone}")
}
