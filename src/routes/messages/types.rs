//! Message bodies in and out of the API.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::routes::utc;
use crate::store::messages::{Message, MessageEvent};

#[derive(Debug, Serialize, ToSchema)]
pub struct MessageErrorOut {
    /// The provider's own error code, e.g. `131026`.
    pub code: Option<String>,
    /// Our error name, e.g. `ERR_TEMPLATE_NOT_READY`.
    pub title: Option<String>,
    pub detail: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MessageEventOut {
    pub status: String,
    pub detail: Option<String>,
    pub at: chrono::DateTime<chrono::Utc>,
}

impl From<MessageEvent> for MessageEventOut {
    fn from(e: MessageEvent) -> Self {
        MessageEventOut { status: e.status, detail: e.detail, at: utc(e.created_at) }
    }
}

/// A message's pricing as the provider's status webhook reported it.
#[derive(Debug, Serialize, ToSchema)]
pub struct PricingOut {
    /// `marketing`, `utility`, `authentication`, `service`, …
    pub category: String,
    /// `regular`, `free_customer_service` or `free_entry_point`.
    #[serde(rename = "type")]
    pub pricing_type: Option<String>,
    /// `PMP` (per message) or `CBP` (per conversation).
    pub pricing_model: Option<String>,
    pub billable: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MessageOut {
    pub id: i64,
    pub account_id: i64,
    pub phone_number_id: i64,
    /// `outbound` or `inbound`.
    pub direction: String,
    /// The other party, E.164.
    pub recipient: String,
    /// `text`, `template`, `interactive`, `media` …
    pub kind: String,
    #[schema(value_type = Object)]
    pub message: serde_json::Value,
    /// `queued`, `sending`, `sent`, `delivered`, `read`, `failed`, `unknown` (may have reached the
    /// provider; awaiting a status report), `unconfirmed` (no report within `UNKNOWN_SETTLE_SECS`;
    /// `POST /messages/{id}/resend` sends it again) or `received`.
    pub status: String,
    pub provider_message_id: Option<String>,
    pub error: Option<MessageErrorOut>,
    pub attempts: i32,
    pub campaign_id: Option<i64>,
    /// The contact's lead (inbound messages).
    pub lead_id: Option<i64>,
    /// What the provider reported it charges for this (outbound) message, once it did.
    pub pricing: Option<PricingOut>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub sent_at: Option<chrono::DateTime<chrono::Utc>>,
    pub delivered_at: Option<chrono::DateTime<chrono::Utc>>,
    pub read_at: Option<chrono::DateTime<chrono::Utc>>,
    pub failed_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The status history, oldest first (on `GET /messages/{id}` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<MessageEventOut>>,
}

impl From<Message> for MessageOut {
    fn from(m: Message) -> Self {
        let error = (m.error_code.is_some() || m.error_title.is_some() || m.error_detail.is_some())
            .then_some(MessageErrorOut { code: m.error_code, title: m.error_title, detail: m.error_detail });
        MessageOut {
            id: m.id,
            account_id: m.account_id,
            phone_number_id: m.phone_number_id,
            direction: m.direction,
            recipient: m.recipient,
            kind: m.kind,
            message: serde_json::from_str(&m.payload).unwrap_or_default(),
            status: m.status,
            provider_message_id: m.provider_message_id,
            error,
            attempts: m.attempts,
            campaign_id: m.campaign_id,
            lead_id: m.lead_id,
            pricing: m.pricing_category.map(|category| PricingOut {
                category,
                pricing_type: m.pricing_type,
                pricing_model: m.pricing_model,
                billable: m.billable.unwrap_or(false),
            }),
            created_at: utc(m.created_at),
            sent_at: m.sent_at.map(utc),
            delivered_at: m.delivered_at.map(utc),
            read_at: m.read_at.map(utc),
            failed_at: m.failed_at.map(utc),
            history: None,
        }
    }
}

/// Filters of `GET /messages`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MessageFilter {
    pub account_id: Option<i64>,
    pub phone_number_id: Option<i64>,
    pub status: Option<String>,
    /// `outbound` or `inbound`.
    pub direction: Option<String>,
    /// E.164.
    pub recipient: Option<String>,
    pub campaign_id: Option<i64>,
    /// Created at or after (RFC 3339).
    pub from: Option<chrono::DateTime<chrono::Utc>>,
    /// Created before (RFC 3339).
    pub to: Option<chrono::DateTime<chrono::Utc>>,
}
