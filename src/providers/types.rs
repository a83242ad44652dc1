//! Provider-neutral values the [`super::Provider`] methods take and return.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The provider's answer to an accepted send.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SendReceipt {
    pub provider_message_id: String,
    /// `accepted`, `held_for_quality_assessment` or `paused`.
    pub status: String,
    /// The provider's reply, stored as is.
    pub raw: Value,
}

impl SendReceipt {
    /// The receipt for a 2xx send reply carrying `id`. A reply without an id is a `Permanent`
    /// error, not a retry: the message may have gone out, and is never sent twice.
    pub fn from_reply(id: Option<String>, raw: Value) -> Result<Self, super::ProviderError> {
        let id = id.ok_or_else(|| super::ProviderError {
            maybe_delivered: true,
            ..super::ProviderError::new(
                super::ProviderErrorKind::Permanent,
                "the send was answered without a message id",
            )
        })?;
        let status =
            raw.pointer("/messages/0/message_status").and_then(Value::as_str).unwrap_or("accepted").to_string();
        Ok(SendReceipt { provider_message_id: id, status, raw })
    }
}

/// A template to submit for review; `components` are in Meta's creation format (reference §5).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewTemplate {
    pub name: String,
    pub language: String,
    /// `MARKETING`, `UTILITY` or `AUTHENTICATION`.
    pub category: String,
    /// `POSITIONAL` or `NAMED`; the provider's default when absent.
    pub parameter_format: Option<String>,
    pub components: Value,
}

/// A template as the provider knows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProviderTemplate {
    pub provider_id: String,
    pub name: String,
    pub language: String,
    pub category: String,
    /// `APPROVED`, `PENDING`, `REJECTED`, `PAUSED`, `DISABLED`, …
    pub status: String,
    pub rejection_reason: Option<String>,
    pub components: Value,
}

/// A business phone number as the provider reports it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProviderPhoneNumber {
    pub id: String,
    pub display_phone_number: String,
    pub verified_name: Option<String>,
    /// `CONNECTED` is needed to send.
    pub status: Option<String>,
    /// `GREEN`, `YELLOW`, `RED`, `NA` or `UNKNOWN`.
    pub quality_rating: Option<String>,
    /// e.g. `TIER_250`, `TIER_2K`, `TIER_UNLIMITED`.
    pub messaging_limit_tier: Option<String>,
    /// `STANDARD`, `HIGH` or `NOT_APPLICABLE`.
    pub throughput_level: Option<String>,
}

/// How the ownership code is delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum CodeMethod {
    Sms,
    Voice,
}

impl CodeMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            CodeMethod::Sms => "SMS",
            CodeMethod::Voice => "VOICE",
        }
    }
}

/// One problem the provider found in an uploaded Flow JSON.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FlowValidationError {
    pub error: String,
    pub error_type: Option<String>,
    pub message: String,
    pub line_start: Option<u32>,
    pub line_end: Option<u32>,
    pub column_start: Option<u32>,
    pub column_end: Option<u32>,
}

/// Overall health of an account at the provider.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    Healthy,
    Degraded,
    Unhealthy,
}

/// The result of a health check; a failed check is reported here, not as an error.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HealthReport {
    pub status: HealthStatus,
    pub can_send_message: bool,
    /// The provider's health document, as is.
    pub details: Value,
    pub error: Option<String>,
    /// The webhook URL the provider calls, when it tells us (to detect drift).
    pub callback_url: Option<String>,
}

/// A delivery status a provider reports: the status machine's own type.
pub use crate::domain::message_status::Reported as DeliveryStatus;

/// A provider-neutral status update for a sent message.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StatusEvent {
    pub provider_message_id: String,
    pub status: DeliveryStatus,
    /// The recipient, digits only.
    pub recipient: String,
    /// Our id, echoed back from the send.
    pub callback_data: Option<String>,
    pub timestamp: chrono::DateTime<chrono::Utc>,
    /// The provider's error code and text when `status` is `failed`.
    pub error: Option<(i64, String)>,
}
