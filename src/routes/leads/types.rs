//! Request and response bodies of the lead routes.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::domain::lead::LeadStatus;
use crate::routes::utc;
use crate::store::leads::{LeadRow, NoteRow};

/// How a lead came in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LeadSource {
    Ivr,
    Api,
    Csv,
    Whatsapp,
}

impl LeadSource {
    pub fn as_str(self) -> &'static str {
        match self {
            LeadSource::Ivr => "ivr",
            LeadSource::Api => "api",
            LeadSource::Csv => "csv",
            LeadSource::Whatsapp => "whatsapp",
        }
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateLeadRequest {
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    /// E.164 (`+919876543210`), or national digits (`9876543210`, `098765 43210`) read with the
    /// configured default country code.
    #[validate(length(min = 1, max = 32))]
    #[schema(min_length = 1, max_length = 32)]
    #[schema(example = "+919876543210")]
    pub phone: String,
    /// One of the tenant's projects.
    pub project_id: Option<i64>,
    /// Default `new`.
    pub status: Option<LeadStatus>,
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    pub stage: Option<String>,
}

/// Fields to change; `null` clears `name`, `project_id` or `stage`.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateLeadRequest {
    #[serde(default, deserialize_with = "crate::extract::nullable")]
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    #[schema(value_type = Option<String>)]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::extract::nullable")]
    #[schema(value_type = Option<i64>)]
    pub project_id: Option<Option<i64>>,
    pub status: Option<LeadStatus>,
    #[serde(default, deserialize_with = "crate::extract::nullable")]
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    #[schema(value_type = Option<String>)]
    pub stage: Option<Option<String>>,
    /// Set by an `interested` click; clear it once the call is done.
    pub follow_up: Option<bool>,
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LeadFilterQuery {
    pub status: Option<LeadStatus>,
    pub project_id: Option<i64>,
    pub source: Option<LeadSource>,
    /// Exact phone number (E.164 or national digits).
    pub phone: Option<String>,
    /// Case-insensitive part of the name.
    pub q: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LeadOut {
    pub id: i64,
    pub name: Option<String>,
    #[schema(example = "+919876543210")]
    pub phone: String,
    pub project_id: Option<i64>,
    pub source: LeadSource,
    pub status: LeadStatus,
    pub stage: Option<String>,
    /// Someone should call this lead (set by an `interested` click).
    pub follow_up: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<LeadRow> for LeadOut {
    fn from(l: LeadRow) -> Self {
        let source = match l.source.as_str() {
            "ivr" => LeadSource::Ivr,
            "csv" => LeadSource::Csv,
            "whatsapp" => LeadSource::Whatsapp,
            _ => LeadSource::Api,
        };
        LeadOut {
            id: l.id,
            name: l.name,
            phone: l.phone,
            project_id: l.project_id,
            source,
            status: LeadStatus::parse(&l.status).unwrap_or(LeadStatus::New),
            stage: l.stage,
            follow_up: l.follow_up,
            created_at: utc(l.created_at),
            updated_at: utc(l.updated_at),
        }
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateNoteRequest {
    #[validate(length(min = 1, max = 4000))]
    #[schema(min_length = 1, max_length = 4000)]
    pub text: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NoteOut {
    pub id: i64,
    pub lead_id: i64,
    /// `user` (a person), `api` (an API key), `ivr`, `csv`, `cta` or `whatsapp`.
    pub source: String,
    pub text: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<NoteRow> for NoteOut {
    fn from(n: NoteRow) -> Self {
        NoteOut { id: n.id, lead_id: n.lead_id, source: n.source, text: n.body, created_at: utc(n.created_at) }
    }
}
