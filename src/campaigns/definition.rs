//! What a campaign sends and to whom, as the API accepts it and the database stores it (JSON).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;
use validator::{Validate, ValidationError};

use crate::domain::cta::CtaAction;
use crate::domain::lead::LeadStatus;

/// The widest date range an audience may span.
pub const MAX_RANGE_DAYS: i64 = 90;
/// The largest audience.
pub const MAX_LIMIT: i64 = 100_000;

/// Everything about a campaign except its account, number, template and rate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct Definition {
    #[validate(nested)]
    pub header_media: Option<HeaderMedia>,
    /// Body parameters in order (`{{1}}`, `{{2}}`, …). Default: lead name, project name, deep link,
    /// cut to the template's parameter count.
    #[validate(length(max = 20), nested)]
    #[schema(max_items = 20)]
    #[serde(default)]
    pub variables: Vec<Variable>,
    /// "Interested" / "Not interested" as template buttons.
    #[validate(nested)]
    pub cta: Option<CtaButtons>,
    #[validate(nested)]
    pub audience: Audience,
}

/// A media header for every message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct HeaderMedia {
    #[serde(rename = "type")]
    pub kind: HeaderMediaKind,
    #[validate(custom(function = "crate::providers::message::check_link"))]
    pub url: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum HeaderMediaKind {
    Image,
    Video,
    Document,
}

/// Where one body parameter's text comes from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "source", rename_all = "snake_case", deny_unknown_fields)]
pub enum Variable {
    /// The lead's name; `default` (else "Customer") when it has none.
    LeadName { default: Option<String> },
    /// The project's name.
    ProjectName { default: Option<String> },
    /// The project's deep link base URL.
    DeepLink { default: Option<String> },
    /// "Answered" or "Missed Call" (IVR audiences).
    CallStatus { default: Option<String> },
    /// A lead column: `name`, `phone`, `status`, `stage` or `source`.
    LeadField { field: LeadField, default: Option<String> },
    /// The same text for everyone.
    Text { value: String },
    /// The CTA tracking link for this lead (for providers without button variables, e.g. Tata).
    CtaLink { action: CtaAction },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LeadField {
    Name,
    Phone,
    Status,
    Stage,
    Source,
}

impl Validate for Variable {
    fn validate(&self) -> Result<(), validator::ValidationErrors> {
        let text = match self {
            Variable::Text { value } => Some(value),
            Variable::LeadName { default }
            | Variable::ProjectName { default }
            | Variable::DeepLink { default }
            | Variable::CallStatus { default }
            | Variable::LeadField { default, .. } => default.as_ref(),
            Variable::CtaLink { .. } => None,
        };
        let mut errors = validator::ValidationErrors::new();
        if text.is_some_and(|t| t.trim().is_empty() || t.chars().count() > 1024) {
            errors.add("value", ValidationError::new("length"));
        }
        if errors.is_empty() { Ok(()) } else { Err(errors) }
    }
}

/// The default mapping: lead name, project name, deep link.
pub fn default_variables() -> Vec<Variable> {
    vec![
        Variable::LeadName { default: None },
        Variable::ProjectName { default: None },
        Variable::DeepLink { default: None },
    ]
}

/// The template buttons carrying "Interested" and "Not interested".
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema, Validate)]
#[serde(deny_unknown_fields)]
pub struct CtaButtons {
    /// `url`: URL buttons whose variable receives `{lead_id}?token=…&action=…` (the button URL is
    /// `{PUBLIC_BASE_URL}/t/{{1}}`); `quick_reply`: payloads `cta:interested` / `cta:not_interested`.
    pub kind: CtaKind,
    #[validate(range(max = 9))]
    #[schema(maximum = 9)]
    pub interested_index: u8,
    #[validate(range(max = 9))]
    #[schema(maximum = 9)]
    pub not_interested_index: u8,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CtaKind {
    Url,
    QuickReply,
}

/// Who receives the campaign.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Audience {
    pub source: AudienceSource,
    /// Project ids; none = all projects.
    #[serde(default)]
    pub projects: Vec<i64>,
    /// First day (UTC), inclusive: of the call (IVR) or of the lead's creation.
    pub from_date: NaiveDate,
    /// Last day (UTC), inclusive; at most 90 days after `from_date`.
    pub to_date: NaiveDate,
    /// IVR audiences: only answered or only missed calls.
    pub call_status: Option<CallStatus>,
    /// Only leads in these statuses.
    #[serde(default)]
    pub lead_statuses: Vec<LeadStatus>,
    /// At most this many recipients (1–100,000; default 100,000).
    pub limit: Option<i64>,
    /// When given, these numbers replace the audience (a test send).
    #[serde(default)]
    pub test_numbers: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum AudienceSource {
    IvrCalls,
    Leads,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum CallStatus {
    Answered,
    Missed,
}

impl CallStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CallStatus::Answered => "answered",
            CallStatus::Missed => "missed",
        }
    }
}

/// Field errors: `to_date` (`to_date_before_from_date`, `range_over_90_days`), `limit`
/// (`out_of_range`), `projects` / `test_numbers` (`too_many`, `invalid_test_number`), `call_status`
/// (`only_for_ivr_calls`).
impl Validate for Audience {
    fn validate(&self) -> Result<(), validator::ValidationErrors> {
        let mut errors = validator::ValidationErrors::new();
        let days = (self.to_date - self.from_date).num_days();
        if days < 0 {
            errors.add("to_date", ValidationError::new("to_date_before_from_date"));
        } else if days >= MAX_RANGE_DAYS {
            errors.add("to_date", ValidationError::new("range_over_90_days"));
        }
        if self.limit.is_some_and(|l| !(1..=MAX_LIMIT).contains(&l)) {
            errors.add("limit", ValidationError::new("out_of_range"));
        }
        if self.projects.len() > 500 {
            errors.add("projects", ValidationError::new("too_many"));
        }
        if self.test_numbers.len() > 50 {
            errors.add("test_numbers", ValidationError::new("too_many"));
        } else if self.test_numbers.iter().any(|n| crate::domain::PhoneNumber::parse(n).is_err()) {
            errors.add("test_numbers", ValidationError::new("invalid_test_number"));
        }
        if self.call_status.is_some() && self.source == AudienceSource::Leads {
            errors.add("call_status", ValidationError::new("only_for_ivr_calls"));
        }
        if errors.is_empty() { Ok(()) } else { Err(errors) }
    }
}

impl Audience {
    pub fn limit(&self) -> i64 {
        self.limit.unwrap_or(MAX_LIMIT)
    }
}

impl Definition {
    /// The hash of what makes two campaigns "the same": account, template and audience. A re-run
    /// of the same definition skips phones that already got its message.
    pub fn hash(&self, account_id: i64, template_name: &str, language: &str) -> String {
        let mut a = self.audience.clone();
        a.projects.sort_unstable();
        a.projects.dedup();
        a.lead_statuses.sort_by_key(|s| s.as_str());
        a.test_numbers = a.test_numbers.iter().map(|n| crate::domain::phone::e164(n)).collect();
        a.test_numbers.sort();
        a.limit = None;
        let key =
            serde_json::json!({"account": account_id, "template": template_name, "language": language, "audience": a});
        hex::encode(Sha256::digest(key.to_string().as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn audience(from: &str, to: &str) -> Audience {
        Audience {
            source: AudienceSource::IvrCalls,
            projects: vec![],
            from_date: from.parse().unwrap(),
            to_date: to.parse().unwrap(),
            call_status: None,
            lead_statuses: vec![],
            limit: None,
            test_numbers: vec![],
        }
    }

    #[test]
    fn ranges_of_more_than_90_days_or_backwards_are_refused() {
        assert!(audience("2026-01-01", "2026-03-31").validate().is_ok());
        assert!(audience("2026-01-01", "2026-04-01").validate().is_err());
        assert!(audience("2026-02-01", "2026-01-31").validate().is_err());
    }

    #[test]
    fn hash_ignores_order_and_limit_but_not_the_template() {
        let mut a = Definition {
            header_media: None,
            variables: vec![],
            cta: None,
            audience: audience("2026-01-01", "2026-01-02"),
        };
        a.audience.projects = vec![2, 1];
        let mut b = a.clone();
        b.audience.projects = vec![1, 2];
        b.audience.limit = Some(5);
        assert_eq!(a.hash(1, "t", "en"), b.hash(1, "t", "en"));
        assert_ne!(a.hash(1, "t", "en"), a.hash(1, "u", "en"));
    }
}
