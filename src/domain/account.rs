//! An account's configuration values: provider, status, business profile, bot settings, limits.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::{Validate, ValidationError};

/// Which provider an account talks to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    Meta,
    Tata,
    /// A local simulation: no credentials needed.
    #[default]
    Sandbox,
}

impl ProviderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::Meta => "meta",
            ProviderKind::Tata => "tata",
            ProviderKind::Sandbox => "sandbox",
        }
    }
    pub fn parse(s: &str) -> ProviderKind {
        match s {
            "meta" => ProviderKind::Meta,
            "tata" => ProviderKind::Tata,
            _ => ProviderKind::Sandbox,
        }
    }
    /// A new number's default throughput: Meta's 80 msg/s, Tata's 0.8 msg/s (the seeds' limit).
    pub fn default_throughput(self) -> f64 {
        match self {
            ProviderKind::Tata => 0.8,
            _ => 80.0,
        }
    }
}

/// The account's lifecycle state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    PendingSetup,
    Active,
    Suspended,
    Error,
    NeedsReauth,
}

impl AccountStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountStatus::PendingSetup => "pending_setup",
            AccountStatus::Active => "active",
            AccountStatus::Suspended => "suspended",
            AccountStatus::Error => "error",
            AccountStatus::NeedsReauth => "needs_reauth",
        }
    }
    pub fn parse(s: &str) -> AccountStatus {
        match s {
            "active" => AccountStatus::Active,
            "suspended" => AccountStatus::Suspended,
            "error" => AccountStatus::Error,
            "needs_reauth" => AccountStatus::NeedsReauth,
            _ => AccountStatus::PendingSetup,
        }
    }
}

/// The public business profile shown to WhatsApp users.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BusinessProfile {
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    /// At most 512 characters, as WhatsApp allows.
    #[validate(length(max = 512))]
    #[schema(max_length = 512)]
    pub description: Option<String>,
    #[validate(email, length(max = 128))]
    #[schema(max_length = 128, format = Email)]
    pub email: Option<String>,
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    #[schema(example = "RETAIL")]
    pub vertical: Option<String>,
    #[validate(length(max = 256))]
    #[schema(max_length = 256)]
    pub address: Option<String>,
    #[validate(url, length(max = 256))]
    #[schema(max_length = 256)]
    pub website: Option<String>,
}

/// How the account answers inbound messages.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[validate(schema(function = "validate_hours", skip_on_field_errors = true))]
pub struct BotSettings {
    #[serde(default)]
    pub enable_auto_reply: bool,
    #[serde(default)]
    pub use_knowledge_base: bool,
    #[validate(length(min = 1, max = 4096))]
    #[schema(min_length = 1, max_length = 4096)]
    pub greeting_message: Option<String>,
    #[validate(length(min = 1, max = 4096))]
    #[schema(min_length = 1, max_length = 4096)]
    pub fallback_message: Option<String>,
    /// `HH:MM`, in `timezone`.
    #[validate(custom(function = "validate_clock"))]
    #[schema(pattern = r"^([01]?[0-9]|2[0-3]):[0-5][0-9]$")]
    #[schema(example = "09:00")]
    pub business_hours_start: Option<String>,
    #[validate(custom(function = "validate_clock"))]
    #[schema(pattern = r"^([01]?[0-9]|2[0-3]):[0-5][0-9]$")]
    #[schema(example = "18:00")]
    pub business_hours_end: Option<String>,
    /// An IANA timezone name.
    #[validate(custom(function = "validate_timezone"))]
    #[schema(example = "Asia/Kolkata")]
    pub timezone: Option<String>,
    /// Reply sent outside business hours (when auto-reply is on).
    #[validate(length(min = 1, max = 4096))]
    #[schema(min_length = 1, max_length = 4096)]
    pub out_of_hours_message: Option<String>,
    /// Words that opt a contact out, besides STOP and UNSUBSCRIBE (matched whole, any case).
    #[serde(default)]
    #[validate(length(max = 20))]
    #[schema(max_items = 20)]
    pub opt_out_keywords: Vec<String>,
}

fn validate_clock(v: &str) -> Result<(), ValidationError> {
    chrono::NaiveTime::parse_from_str(v, "%H:%M").map(|_| ()).map_err(|_| ValidationError::new("invalid_time"))
}

fn validate_timezone(v: &str) -> Result<(), ValidationError> {
    v.parse::<chrono_tz::Tz>().map(|_| ()).map_err(|_| ValidationError::new("invalid_timezone"))
}

fn validate_hours(b: &BotSettings) -> Result<(), ValidationError> {
    match (&b.business_hours_start, &b.business_hours_end, &b.timezone) {
        (None, None, _) => Ok(()),
        (Some(_), Some(_), Some(_)) => Ok(()),
        _ => Err(ValidationError::new("business_hours_need_start_end_and_timezone")),
    }
}

/// Sending limits; null means the provider's default or unlimited.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    #[validate(range(min = 0.01, max = 1000.0))]
    #[schema(minimum = 0.01, maximum = 1000.0)]
    pub messages_per_second: Option<f64>,
    #[validate(range(min = 1, max = 10_000_000))]
    #[schema(minimum = 1, maximum = 10_000_000)]
    pub messages_per_minute: Option<i64>,
    #[validate(range(min = 1, max = 100_000_000))]
    #[schema(minimum = 1, maximum = 100_000_000)]
    pub messages_per_day: Option<i64>,
    #[validate(range(min = 1, max = 1_000_000_000))]
    #[schema(minimum = 1, maximum = 1_000_000_000)]
    pub messages_per_month: Option<i64>,
}

/// Webhook fields an account subscribes to (Meta's field names).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WebhookField {
    Messages,
    MessageTemplateStatusUpdate,
    MessageTemplateQualityUpdate,
    TemplateCategoryUpdate,
    PhoneNumberQualityUpdate,
    PhoneNumberNameUpdate,
    AccountUpdate,
    AccountReviewUpdate,
    AccountAlerts,
    BusinessCapabilityUpdate,
    Flows,
    Security,
    UserPreferences,
}

/// What a new account subscribes to unless told otherwise.
pub fn default_webhook_fields() -> Vec<WebhookField> {
    use WebhookField::*;
    vec![
        Messages,
        MessageTemplateStatusUpdate,
        MessageTemplateQualityUpdate,
        TemplateCategoryUpdate,
        PhoneNumberQualityUpdate,
        AccountUpdate,
    ]
}
