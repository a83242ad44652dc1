//! Campaign bodies in and out of the API.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::campaigns::audience::Group;
use crate::campaigns::control::Progress;
use crate::campaigns::definition::{Audience, CtaButtons, Definition, HeaderMedia, Variable};
use crate::routes::utc;
use crate::store::campaigns::{CampaignRow, RecipientView};

/// The template a campaign sends.
#[derive(Clone, Debug, Deserialize, Serialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateRef {
    #[validate(length(min = 1, max = 512))]
    #[schema(min_length = 1, max_length = 512)]
    pub name: String,
    #[validate(length(min = 2, max = 15))]
    #[schema(min_length = 2, max_length = 15)]
    #[schema(example = "en")]
    pub language: String,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCampaignRequest {
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    pub account_id: i64,
    /// The sending number; the account's default when omitted.
    pub phone_number_id: Option<i64>,
    #[validate(nested)]
    pub template: TemplateRef,
    /// Messages per second (default 0.8, the seeds' Tata limit); at most the number's throughput.
    #[validate(range(exclusive_min = 0.0, max = 10000.0))]
    #[schema(maximum = 10000.0)]
    pub rate_mps: Option<f64>,
    #[validate(nested)]
    pub header_media: Option<HeaderMedia>,
    /// Body parameters in order; default lead name, project name, deep link.
    #[serde(default)]
    #[validate(length(max = 20), nested)]
    #[schema(max_items = 20)]
    pub variables: Vec<Variable>,
    #[validate(nested)]
    pub cta: Option<CtaButtons>,
    #[validate(nested)]
    pub audience: Audience,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignOut {
    pub id: i64,
    pub name: String,
    pub account_id: i64,
    pub phone_number_id: i64,
    pub template: TemplateRef,
    pub rate_mps: f64,
    /// `draft`, `running`, `paused`, `halted`, `completed` or `cancelled`.
    pub status: String,
    /// Why it halted by itself, e.g. `ERR_TEMPLATE_NOT_READY`, `ERR_POLICY_VIOLATION`, `ERR_QUALITY_DEGRADED`.
    pub halt_reason: Option<String>,
    pub halt_detail: Option<String>,
    pub header_media: Option<HeaderMedia>,
    pub variables: Vec<Variable>,
    pub cta: Option<CtaButtons>,
    pub audience: Audience,
    /// Counts, rates and ETA (on `GET /campaigns/{id}`, and after start).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress: Option<Progress>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub started_at: Option<chrono::DateTime<chrono::Utc>>,
    pub finished_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl CampaignOut {
    pub fn new(c: CampaignRow, d: Definition, progress: Option<Progress>) -> Self {
        CampaignOut {
            id: c.id,
            name: c.name,
            account_id: c.account_id,
            phone_number_id: c.phone_number_id,
            template: TemplateRef { name: c.template_name, language: c.template_language },
            rate_mps: c.rate_mps,
            status: c.status,
            halt_reason: c.halt_reason,
            halt_detail: c.halt_detail,
            header_media: d.header_media,
            variables: d.variables,
            cta: d.cta,
            audience: d.audience,
            progress,
            created_at: utc(c.created_at),
            started_at: c.started_at.map(utc),
            finished_at: c.finished_at.map(utc),
        }
    }
}

/// Query of `POST /campaigns/{id}/preview`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PreviewQuery {
    /// How many rendered messages to return (0–100, default 5).
    pub samples: Option<usize>,
}

/// One message as it would be sent.
#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewSample {
    /// Masked, e.g. `+91******1616`.
    pub to: String,
    pub lead_id: Option<i64>,
    #[schema(value_type = Object)]
    pub message: serde_json::Value,
}

/// A dry run: who would be messaged and what, without sending or storing anything.
#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewOut {
    /// Recipients that would be messaged.
    pub eligible: i64,
    /// Excluded entries by reason: `invalid_number`, `duplicate`, `opted_out`, `already_sent`, `over_limit`.
    pub excluded: BTreeMap<String, i64>,
    /// Eligible recipients by project and call status.
    pub groups: Vec<Group>,
    pub samples: Vec<PreviewSample>,
}

/// Query of `GET /campaigns/{id}/recipients`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RecipientQuery {
    /// `pending`, `queued`, `sent`, `delivered`, `read`, `failed`, `unknown` or `skipped`.
    pub status: Option<String>,
    /// `json` (default, paginated) or `csv` (every recipient; also with `Accept: text/csv`).
    pub format: Option<String>,
    /// Full phone numbers instead of masked ones (owners and admins only).
    #[serde(default)]
    pub full_numbers: bool,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RecipientOut {
    pub id: i64,
    /// Masked unless `full_numbers=true`.
    pub phone: String,
    pub lead_id: Option<i64>,
    pub project_id: Option<i64>,
    pub call_status: Option<String>,
    pub status: String,
    /// Why skipped (`opted_out`, `already_sent`, `cancelled`) or the failure's error name.
    pub reason: Option<String>,
    pub message_id: Option<i64>,
    pub queued_at: Option<chrono::DateTime<chrono::Utc>>,
    pub sent_at: Option<chrono::DateTime<chrono::Utc>>,
    pub delivered_at: Option<chrono::DateTime<chrono::Utc>>,
    pub read_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl RecipientOut {
    pub fn new(r: RecipientView, full: bool) -> Self {
        RecipientOut {
            id: r.id,
            phone: crate::campaigns::csv::phone(&r.phone, full),
            lead_id: r.lead_id,
            project_id: r.project_id,
            call_status: r.call_status,
            status: r.status,
            reason: r.skip_reason.or(r.error),
            message_id: r.message_id,
            queued_at: r.queued_at.map(utc),
            sent_at: r.sent_at.map(utc),
            delivered_at: r.delivered_at.map(utc),
            read_at: r.read_at.map(utc),
        }
    }
}
