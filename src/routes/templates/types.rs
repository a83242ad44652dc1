//! Template bodies in and out of the API.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::routes::utc;
use crate::store::templates::Template;

#[derive(Debug, Serialize, ToSchema)]
pub struct TemplateOut {
    pub id: i64,
    pub account_id: i64,
    pub name: String,
    pub language: String,
    /// `MARKETING`, `UTILITY` or `AUTHENTICATION`.
    pub category: String,
    /// `DRAFT`, `PENDING`, `APPROVED`, `REJECTED`, `PAUSED`, `DISABLED`, `DELETED` …
    pub status: String,
    pub rejection_reason: Option<String>,
    pub provider_template_id: Option<String>,
    pub parameter_format: String,
    #[schema(value_type = Vec<Object>)]
    pub components: serde_json::Value,
    pub quality_score: Option<String>,
    /// Set when the provider re-categorised the template.
    pub previous_category: Option<String>,
    pub submitted_at: Option<chrono::DateTime<chrono::Utc>>,
    pub synced_at: Option<chrono::DateTime<chrono::Utc>>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<Template> for TemplateOut {
    fn from(t: Template) -> Self {
        TemplateOut {
            id: t.id,
            account_id: t.account_id,
            name: t.name,
            language: t.language,
            category: t.category,
            status: t.status,
            rejection_reason: t.rejection_reason,
            provider_template_id: t.provider_template_id,
            parameter_format: t.parameter_format,
            components: serde_json::from_str(&t.components).unwrap_or_default(),
            quality_score: t.quality_score,
            previous_category: t.previous_category,
            submitted_at: t.submitted_at.map(utc),
            synced_at: t.synced_at.map(utc),
            created_at: utc(t.created_at),
            updated_at: utc(t.updated_at),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TemplateFilter {
    pub status: Option<String>,
    pub category: Option<String>,
    pub language: Option<String>,
    /// Part of the name.
    pub name: Option<String>,
}

/// What a sync changed.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct SyncReport {
    pub created: usize,
    pub updated: usize,
    /// Templates we had that the provider no longer lists (marked `DELETED`).
    pub missing: usize,
}
