//! Request and response bodies of the webhook endpoint routes.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::relay::EVENT_TYPES;
use crate::routes::utc;
use crate::store::webhook_endpoints::{Attempt, Delivery, Endpoint};

/// Every entry must be a known event type, and there must be at least one.
fn valid_event_types(t: &[String]) -> Result<(), validator::ValidationError> {
    if !t.is_empty() && t.iter().all(|x| EVENT_TYPES.contains(&x.as_str())) {
        Ok(())
    } else {
        Err(validator::ValidationError::new("invalid_choice"))
    }
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhookEndpointRequest {
    /// Where events are POSTed: https, on a public address.
    #[validate(length(min = 1, max = 2000))]
    #[schema(min_length = 1, max_length = 2000)]
    #[schema(example = "https://example.com/wabahub/events")]
    pub url: String,
    /// Event types to receive: `message.status`, `message.inbound`, `flow.submission`,
    /// `template.updated`, `phone_number.quality`, `campaign.progress`.
    #[validate(custom(function = "valid_event_types"))]
    pub event_types: Vec<String>,
    #[validate(length(max = 500))]
    #[schema(max_length = 500)]
    pub description: Option<String>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWebhookEndpointRequest {
    #[validate(length(min = 1, max = 2000))]
    #[schema(min_length = 1, max_length = 2000)]
    pub url: Option<String>,
    #[validate(custom(function = "valid_event_types"))]
    pub event_types: Option<Vec<String>>,
    /// Inactive endpoints receive nothing; their pending deliveries wait.
    pub active: Option<bool>,
    #[validate(length(max = 500))]
    #[schema(max_length = 500)]
    pub description: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookEndpointOut {
    pub id: i64,
    pub url: String,
    pub event_types: Vec<String>,
    pub active: bool,
    pub description: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<Endpoint> for WebhookEndpointOut {
    fn from(e: Endpoint) -> Self {
        WebhookEndpointOut {
            event_types: e.types(),
            id: e.id,
            url: e.url,
            active: e.active,
            description: e.description,
            created_at: utc(e.created_at),
            updated_at: utc(e.updated_at),
        }
    }
}

/// An endpoint with its signing secret, shown only in this response.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookEndpointWithSecret {
    #[serde(flatten)]
    pub endpoint: WebhookEndpointOut,
    /// Verify `X-Wabahub-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">` with it.
    #[schema(example = "whsec_3kT9aQ2x…")]
    pub secret: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryAttemptOut {
    pub attempted_at: chrono::DateTime<chrono::Utc>,
    /// The HTTP status the endpoint answered, if it answered.
    pub status_code: Option<i32>,
    pub error: Option<String>,
    pub duration_ms: i64,
}

impl From<Attempt> for DeliveryAttemptOut {
    fn from(a: Attempt) -> Self {
        DeliveryAttemptOut {
            attempted_at: utc(a.attempted_at),
            status_code: a.status_code,
            error: a.error,
            duration_ms: a.duration_ms,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookDeliveryOut {
    pub id: i64,
    pub endpoint_id: i64,
    /// Stable across retries and replays: receivers deduplicate on it.
    pub event_id: String,
    pub event_type: String,
    /// The JSON body sent.
    #[schema(value_type = Object)]
    pub payload: serde_json::Value,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: Option<chrono::DateTime<chrono::Utc>>,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub delivered_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Every attempt, oldest first.
    pub attempt_log: Vec<DeliveryAttemptOut>,
}

impl WebhookDeliveryOut {
    pub fn new(d: Delivery, attempts: Vec<Attempt>) -> Self {
        WebhookDeliveryOut {
            id: d.id,
            endpoint_id: d.endpoint_id,
            payload: serde_json::from_str(&d.payload).unwrap_or_default(),
            event_id: d.event_id,
            event_type: d.event_type,
            next_attempt_at: (d.status == "pending").then(|| utc(d.next_attempt_at)),
            status: d.status,
            attempts: d.attempts,
            last_status_code: d.last_status_code,
            last_error: d.last_error,
            created_at: utc(d.created_at),
            delivered_at: d.delivered_at.map(utc),
            attempt_log: attempts.into_iter().map(DeliveryAttemptOut::from).collect(),
        }
    }
}

/// Filters of the delivery log.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryFilter {
    /// `pending`, `delivered` or `failed`.
    pub status: Option<String>,
}
