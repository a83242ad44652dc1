//! The campaign lifecycle: start (materialise recipients), pause, resume, cancel, halt, and the
//! progress figures. Every change is one write transaction and emits `campaign.progress`.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

use super::audience::{self, Resolution};
use super::definition::{CtaKind, Definition};
use super::render;
use crate::db::{DbConn, write_tx};
use crate::domain::TenantId;
use crate::domain::account::ProviderKind;
use crate::domain::cta::CtaSigner;
use crate::domain::template::body_parameter_count;
use crate::error::{ApiError, ApiResult};
use crate::outbox::admission::{self, Origin, Refusal, TemplateUse};
use crate::store::campaigns::{self as store, CampaignRow, NewRecipient};
use crate::store::{accounts, phone_numbers, templates};

/// The campaign's stored definition.
pub fn definition(c: &CampaignRow) -> ApiResult<Definition> {
    serde_json::from_str(&c.definition).map_err(ApiError::internal)
}

/// The tenant's campaign, or 404.
pub fn require(conn: &mut DbConn, tenant: TenantId, id: i64) -> ApiResult<CampaignRow> {
    store::get(conn, tenant, id)?.ok_or_else(|| ApiError::not_found("campaign"))
}

fn emit(conn: &mut DbConn, c: &CampaignRow, event: &str) -> ApiResult<()> {
    let data = serde_json::json!({
        "campaign_id": c.id, "event": event, "status": c.status,
        "halt_reason": c.halt_reason, "halt_detail": c.halt_detail,
    });
    crate::relay::emit(conn, TenantId(c.tenant_id), "campaign.progress", data)?;
    Ok(())
}

/// The campaign's account and number.
pub fn origin(conn: &mut DbConn, c: &CampaignRow) -> ApiResult<Origin> {
    let account = accounts::by_id(conn, c.account_id)?.ok_or_else(|| ApiError::not_found("account"))?;
    let phone = phone_numbers::by_id(conn, c.phone_number_id)?.ok_or_else(|| ApiError::not_found("phone number"))?;
    Ok(Origin { account, phone })
}

/// The template every message of the campaign uses, as admission checks it.
pub fn template_use(c: &CampaignRow, d: &Definition) -> TemplateUse {
    TemplateUse {
        name: c.template_name.clone(),
        language: c.template_language.clone(),
        body_parameters: d.variables.len(),
        button_variables: d.cta.as_ref().is_some_and(|b| b.kind == CtaKind::Url),
    }
}

/// Whether the campaign can send now: the outbox's rules for the whole origin (account active,
/// number not RED, template approved and its parameters filled, button variables only where the
/// provider takes them).
pub fn check_ready(conn: &mut DbConn, c: &CampaignRow, d: &Definition) -> ApiResult<()> {
    let origin = origin(conn, c)?;
    admission::check_origin(conn, &origin, Some(&template_use(c, d)))?.map_err(|r| match r {
        Refusal::ButtonVariablesUnsupported => r.problem("cta"),
        _ => r.problem("variables"),
    })
}

/// A new campaign as the API or the CLI describes it.
pub struct Draft {
    pub name: String,
    pub account_id: i64,
    pub phone_number_id: Option<i64>,
    pub template_name: String,
    pub template_language: String,
    /// Default 0.8 msg/s (or the number's throughput when lower).
    pub rate_mps: Option<f64>,
    /// Empty `variables` means the default mapping, cut to the template's parameter count.
    pub definition: Definition,
}

/// The default rate: the seeds' Tata limit.
pub const DEFAULT_RATE: f64 = 0.8;

/// Stores a draft after checking what can be checked before start: the account and number are the
/// tenant's, the rate fits the number, the projects exist, the variables fit the template (when it
/// is known), and the provider takes the CTA buttons. Media headers are checked by the caller.
pub fn create(conn: &mut DbConn, tenant: TenantId, draft: Draft) -> ApiResult<CampaignRow> {
    write_tx(conn, |c| create_in(c, tenant, draft))
}

/// `create` inside the caller's write transaction.
pub fn create_in(c: &mut DbConn, tenant: TenantId, draft: Draft) -> ApiResult<CampaignRow> {
    {
        let account =
            accounts::get(c, tenant, draft.account_id)?.ok_or_else(|| ApiError::field("account_id", "not_found"))?;
        let phone = match draft.phone_number_id {
            Some(pid) => phone_numbers::get(c, tenant, pid)?.filter(|p| p.account_id == account.id),
            None => phone_numbers::default_for(c, tenant, account.id)?,
        }
        .ok_or_else(|| ApiError::field("phone_number_id", "not_found"))?;
        let rate = draft.rate_mps.unwrap_or(DEFAULT_RATE.min(phone.throughput_mps));
        if rate > phone.throughput_mps {
            return Err(ApiError::field("rate_mps", "exceeds_number_throughput"));
        }
        let mut d = draft.definition;
        if !store::projects_owned(c, tenant, &d.audience.projects)? {
            return Err(ApiError::field("audience.projects", "not_found"));
        }
        if ProviderKind::parse(&account.provider) == ProviderKind::Tata
            && d.cta.as_ref().is_some_and(|b| b.kind == CtaKind::Url)
        {
            return Err(ApiError::field("cta", "ERR_BUTTON_VARIABLES_UNSUPPORTED"));
        }
        let template = templates::by_name(c, account.id, &draft.template_name, &draft.template_language)?;
        let expected = template.as_ref().map(|t| {
            let components: Vec<serde_json::Value> = serde_json::from_str(&t.components).unwrap_or_default();
            body_parameter_count(&components)
        });
        if d.variables.is_empty() {
            d.variables = super::definition::default_variables();
            d.variables.truncate(expected.unwrap_or(d.variables.len()));
        } else if let Some(n) = expected.filter(|n| *n != d.variables.len()) {
            return Err(ApiError::field("variables", &format!("expected_{n}_body_parameters")));
        }
        let ts = crate::db::now();
        Ok(store::insert(
            c,
            store::NewCampaign {
                tenant_id: tenant.0,
                account_id: account.id,
                phone_number_id: phone.id,
                name: draft.name,
                definition_hash: d.hash(account.id, &draft.template_name, &draft.template_language),
                template_name: draft.template_name,
                template_language: draft.template_language,
                definition: serde_json::to_string(&d).map_err(ApiError::internal)?,
                rate_mps: rate,
                status: "draft".into(),
                created_at: ts,
                updated_at: ts,
            },
        )?)
    }
}

/// What a start did.
pub struct Started {
    pub campaign: CampaignRow,
    pub recipients: usize,
}

/// Starts a draft: checks it can send, resolves the audience, stores every recipient with its
/// rendered message (frozen from now on), and marks it running. Nothing is sent here: the runner
/// hands recipients to the outbox.
pub fn start(conn: &mut DbConn, tenant: TenantId, id: i64, signer: &CtaSigner, base_url: &str) -> ApiResult<Started> {
    write_tx(conn, |c| {
        let campaign = require(c, tenant, id)?;
        if store::lock_status(c, id)?.as_deref() != Some("draft") {
            return Err(ApiError::conflict("campaign_not_draft", "only a draft campaign can be started"));
        }
        let d = definition(&campaign)?;
        check_ready(c, &campaign, &d)?;
        let res = audience::resolve(c, tenant, &d.audience, id, &campaign.definition_hash, true)?;
        let rows = recipients(&campaign, &d, &res, signer, base_url)?;
        store::insert_recipients(c, tenant, id, &rows)?;
        let exclusions = serde_json::to_string(&res.exclusions).map_err(ApiError::internal)?;
        let campaign = store::mark_started(c, id, &exclusions)?;
        emit(c, &campaign, "started")?;
        Ok(Started { campaign, recipients: res.eligible.len() })
    })
}

/// The rendered recipients of a resolution: eligible ones pending, the others skipped.
fn recipients(
    campaign: &CampaignRow,
    d: &Definition,
    res: &Resolution,
    signer: &CtaSigner,
    base_url: &str,
) -> ApiResult<Vec<NewRecipient>> {
    let ctx = render::Context {
        definition: d,
        template_name: &campaign.template_name,
        language: &campaign.template_language,
        cta: signer,
        base_url,
        now: chrono::Utc::now().timestamp(),
    };
    let skipped = res.skipped.iter().map(|(c, r)| (c, Some(*r)));
    let mut out = Vec::with_capacity(res.eligible.len() + res.skipped.len());
    for (c, reason) in res.eligible.iter().map(|c| (c, None)).chain(skipped) {
        let payload = serde_json::to_string(&render::message(&ctx, c)).map_err(ApiError::internal)?;
        out.push(NewRecipient {
            phone: c.phone.clone(),
            lead_id: c.lead_id,
            project_id: c.project_id,
            call_status: c.call_status,
            payload,
            skip_reason: reason,
        });
    }
    Ok(out)
}

/// Moves a campaign between states the caller asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Pause,
    Resume,
    Cancel,
}

/// Pauses (holding its queued messages), resumes (after the same checks as start) or cancels
/// (failing never-sent messages and skipping pending recipients, so every recipient ends clear).
pub fn act(conn: &mut DbConn, tenant: TenantId, id: i64, action: Action) -> ApiResult<CampaignRow> {
    write_tx(conn, |c| {
        let campaign = require(c, tenant, id)?;
        let status = store::lock_status(c, id)?.unwrap_or_default();
        let (allowed, next, event): (&[&str], &str, &str) = match action {
            Action::Pause => (&["running"], "paused", "paused"),
            Action::Resume => (&["paused", "halted"], "running", "resumed"),
            Action::Cancel => (&["draft", "running", "paused", "halted"], "cancelled", "cancelled"),
        };
        if !allowed.contains(&status.as_str()) {
            return Err(ApiError::conflict("invalid_campaign_state", format!("a {status} campaign cannot be {event}")));
        }
        match action {
            Action::Pause => {
                store::hold_messages(c, id)?;
            }
            Action::Resume => {
                check_ready(c, &campaign, &definition(&campaign)?)?;
                store::release_messages(c, id)?;
            }
            Action::Cancel => {
                store::cancel_outstanding(
                    c,
                    id,
                    "ERR_CAMPAIGN_CANCELLED",
                    "the campaign was cancelled before sending",
                )?;
            }
        }
        let campaign = store::set_status(c, id, next, None, None)?;
        emit(c, &campaign, event)?;
        Ok(campaign)
    })
}

/// Halts a running or paused campaign by itself (`reason`: an error name such as
/// `ERR_TEMPLATE_NOT_READY`): its queued messages are held. Call in a write transaction.
pub fn halt(conn: &mut DbConn, id: i64, reason: &str, detail: &str) -> ApiResult<bool> {
    if !matches!(store::lock_status(conn, id)?.as_deref(), Some("running" | "paused")) {
        return Ok(false);
    }
    store::hold_messages(conn, id)?;
    let campaign = store::set_status(conn, id, "halted", Some(reason), Some(detail))?;
    tracing::warn!(campaign = id, reason, "campaign halted");
    emit(conn, &campaign, "halted")?;
    Ok(true)
}

/// Halts the campaign a failed message belongs to, when its error is one that halts campaigns.
pub fn on_message_failed(conn: &mut DbConn, message_id: i64, title: &str, detail: &str) -> diesel::QueryResult<()> {
    if !super::HALTING_ERRORS.contains(&title) {
        return Ok(());
    }
    if let Some(campaign) = store::of_message(conn, message_id)? {
        halt(conn, campaign, title, detail)
            .map_err(|e| diesel::result::Error::QueryBuilderError(e.to_string().into()))?;
    }
    Ok(())
}

/// Halts every running or paused campaign of a number whose quality dropped to RED.
pub fn on_quality_red(conn: &mut DbConn, phone_number_id: i64) -> diesel::QueryResult<()> {
    for campaign in store::active_on_number(conn, phone_number_id)? {
        halt(conn, campaign.id, super::ERR_QUALITY_DEGRADED, "the sending number's quality rating dropped to RED")
            .map_err(|e| diesel::result::Error::QueryBuilderError(e.to_string().into()))?;
    }
    Ok(())
}

/// A campaign's progress and results.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct Progress {
    /// Recipients stored at start (eligible and skipped).
    pub recipients: i64,
    /// Not yet handed to the outbox.
    pub pending: i64,
    /// In the outbox, not yet accepted by the provider.
    pub queued: i64,
    pub sent: i64,
    pub delivered: i64,
    pub read: i64,
    pub failed: i64,
    /// May have reached the provider (no answer, or a crash mid-send); never resent automatically,
    /// awaiting a status report.
    pub unknown: i64,
    /// Were `unknown` for `UNKNOWN_SETTLE_SECS` with no status report; an owner may resend them
    /// (`POST /campaigns/{id}/resend-unconfirmed`).
    pub unconfirmed: i64,
    pub skipped: i64,
    /// Skipped recipients by reason (`opted_out`, `already_sent`, `cancelled`).
    pub skipped_by_reason: BTreeMap<String, i64>,
    /// Failed recipients by error name.
    pub failed_by_reason: BTreeMap<String, i64>,
    /// Audience entries that never became recipients, by reason (`invalid_number`, `duplicate`,
    /// `over_limit`), plus the skipped reasons as counted at start.
    pub excluded: BTreeMap<String, i64>,
    /// (delivered + read) / messages that were sent or failed.
    pub delivery_rate: Option<f64>,
    /// read / messages that were sent or failed.
    pub read_rate: Option<f64>,
    /// Seconds until every pending and queued recipient is handed over at the campaign's rate.
    pub eta_seconds: Option<i64>,
}

/// Counts a campaign's recipients by status and reason.
pub fn progress(conn: &mut DbConn, c: &CampaignRow) -> ApiResult<Progress> {
    let mut p = Progress { excluded: serde_json::from_str(&c.exclusions).unwrap_or_default(), ..Default::default() };
    for row in store::counts(conn, c.id)? {
        p.recipients += row.n;
        match row.status.as_str() {
            "pending" => p.pending += row.n,
            "queued" => p.queued += row.n,
            "sent" => p.sent += row.n,
            "delivered" => p.delivered += row.n,
            "read" => p.read += row.n,
            "unknown" => p.unknown += row.n,
            "unconfirmed" => p.unconfirmed += row.n,
            "failed" => {
                p.failed += row.n;
                *p.failed_by_reason.entry(row.reason.unwrap_or_else(|| "unknown".into())).or_default() += row.n;
            }
            _ => {
                p.skipped += row.n;
                *p.skipped_by_reason.entry(row.reason.unwrap_or_else(|| "unknown".into())).or_default() += row.n;
            }
        }
    }
    let accepted = p.sent + p.delivered + p.read + p.failed;
    if accepted > 0 {
        p.delivery_rate = Some((p.delivered + p.read) as f64 / accepted as f64);
        p.read_rate = Some(p.read as f64 / accepted as f64);
    }
    if c.status == "running" && c.rate_mps > 0.0 {
        p.eta_seconds = Some(((p.pending + p.queued) as f64 / c.rate_mps).ceil() as i64);
    }
    Ok(p)
}
