//! The sandbox: a local provider for a fresh install, no credentials and no network.
//!
//! - Sends are accepted with ids `wamid.SANDBOX.<32 hex>`.
//! - Test recipients, by their last four digits:
//!   - `0000` → refused: `InvalidRecipient` (131026, undeliverable);
//!   - `0429` → refused: `RateLimited` (130429, retry after 1 s);
//!   - `0190` → refused: `AuthFailed` (190, token expired);
//!   - `1026` → accepted, then `sent` → `failed` (131026) in [`SandboxProvider::simulated_statuses`];
//!   - any other number → accepted, then `sent` → `delivered` → `read`.
//! - Templates are created `PENDING` and listed `APPROVED` once the approval delay (default 2 s)
//!   has passed; a name starting with `reject_` is listed `REJECTED` (`INVALID_FORMAT`) instead.
//! - One `CONNECTED`, `GREEN`, `TIER_250`, `STANDARD` phone number; health is always healthy.
//! - Flows get ids `SANDBOX-FLOW-<n>`, validate without errors and publish at once.
//! - Webhook signatures are HMAC-SHA256 under [`SANDBOX_APP_SECRET`], as Meta's.
//! - Contacts writing in (a text, or a completed Flow) are simulated with [`inbound`]: a
//!   Meta-shaped `messages` webhook body, stored and applied like a real one
//!   (`POST /accounts/{id}/sandbox/inbound`).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use serde_json::{Value, json};

use super::Provider;
use super::error::{ProviderError, ProviderErrorKind};
use super::message::OutboundMessage;
use super::types::*;

/// The secret sandbox webhooks are signed with.
pub const SANDBOX_APP_SECRET: &str = "sandbox-app-secret";
/// The id of the sandbox's one phone number.
pub const SANDBOX_PHONE_NUMBER_ID: &str = "100000000000001";

/// A simulated provider; its state lives in memory for the life of the process.
pub struct SandboxProvider {
    approval_delay: Duration,
    templates: Mutex<Vec<(ProviderTemplate, Instant)>>,
    flows: Mutex<u64>,
}

impl SandboxProvider {
    pub fn new(approval_delay: Duration) -> Self {
        SandboxProvider { approval_delay, templates: Mutex::new(Vec::new()), flows: Mutex::new(0) }
    }
}

/// The refusal a test recipient triggers, if any.
fn refusal(digits: &str) -> Option<ProviderError> {
    let (kind, code, message) = match &digits[digits.len().saturating_sub(4)..] {
        "0000" => (ProviderErrorKind::InvalidRecipient, 131026, "Message undeliverable"),
        "0429" => (ProviderErrorKind::RateLimited, 130429, "Rate limit hit"),
        "0190" => (ProviderErrorKind::AuthFailed, 190, "Access token has expired"),
        _ => return None,
    };
    let mut err = ProviderError::new(kind, format!("(#{code}) {message} [sandbox]"));
    err.code = Some(code);
    err.retry_after = (kind == ProviderErrorKind::RateLimited).then_some(Duration::from_secs(1));
    Some(err)
}

/// `wamid.SANDBOX.` and 32 random hex digits.
pub fn message_id() -> String {
    let mut bytes = [0u8; 16];
    rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut bytes);
    format!("wamid.SANDBOX.{}", hex::encode_upper(bytes))
}

/// What a simulated contact sends.
pub enum Inbound<'a> {
    Text(&'a str),
    /// A completed Flow: the submitted fields (Meta sends them as a JSON string).
    FlowReply(&'a Value),
}

/// A contact's message as Meta's webhook would carry it: `from` is the contact's digits,
/// `phone_number_id` our number's provider id, `reply_to` the provider id of the message it
/// answers. Returns the body and the message's id.
pub fn inbound(
    waba_id: &str,
    phone_number_id: &str,
    from: &str,
    name: Option<&str>,
    content: Inbound,
    reply_to: Option<&str>,
    at: chrono::DateTime<chrono::Utc>,
) -> (Value, String) {
    let id = message_id();
    let mut message = json!({"from": from, "id": id, "timestamp": at.timestamp().to_string()});
    match content {
        Inbound::Text(text) => {
            message["type"] = json!("text");
            message["text"] = json!({"body": text});
        }
        Inbound::FlowReply(response) => {
            message["type"] = json!("interactive");
            message["interactive"] = json!({"type": "nfm_reply",
                "nfm_reply": {"response_json": response.to_string(), "body": "Sent", "name": "flow"}});
        }
    }
    if let Some(context) = reply_to {
        message["context"] = json!({"id": context});
    }
    let contact = json!({"wa_id": from, "profile": {"name": name.unwrap_or_default()}});
    let value = json!({"messaging_product": "whatsapp", "metadata": {"phone_number_id": phone_number_id},
        "contacts": [contact], "messages": [message]});
    let body = json!({"object": "whatsapp_business_account",
        "entry": [{"id": waba_id, "changes": [{"field": "messages", "value": value}]}]});
    (body, id)
}

#[async_trait]
impl Provider for SandboxProvider {
    /// The status updates a real provider would send for `msg` after `receipt`, in order:
    /// `sent`, `delivered`, `read`, or `sent`, `failed` for recipients ending `1026`.
    fn simulated_statuses(&self, msg: &OutboundMessage, receipt: &SendReceipt) -> Vec<StatusEvent> {
        let now = chrono::Utc::now();
        let event = |status, offset_ms: i64, error: Option<(i64, String)>| StatusEvent {
            provider_message_id: receipt.provider_message_id.clone(),
            status,
            recipient: msg.to.digits().to_string(),
            callback_data: msg.callback_data.clone(),
            timestamp: now + chrono::Duration::milliseconds(offset_ms),
            error,
        };
        if msg.to.digits().ends_with("1026") {
            let error = (131026, "Message undeliverable".to_string());
            return vec![event(DeliveryStatus::Sent, 0, None), event(DeliveryStatus::Failed, 500, Some(error))];
        }
        vec![
            event(DeliveryStatus::Sent, 0, None),
            event(DeliveryStatus::Delivered, 500, None),
            event(DeliveryStatus::Read, 1500, None),
        ]
    }

    fn kind(&self) -> &'static str {
        "sandbox"
    }

    async fn send_message(&self, msg: &OutboundMessage) -> Result<SendReceipt, ProviderError> {
        if let Some(err) = refusal(msg.to.digits()) {
            return Err(err);
        }
        let id = message_id();
        let raw = json!({"messaging_product": "whatsapp",
            "contacts": [{"input": msg.to.digits(), "wa_id": msg.to.digits()}],
            "messages": [{"id": id, "message_status": "accepted"}]});
        Ok(SendReceipt { provider_message_id: id, status: "accepted".into(), raw })
    }

    async fn create_template(&self, t: &NewTemplate) -> Result<ProviderTemplate, ProviderError> {
        let mut templates = self.templates.lock().unwrap_or_else(|e| e.into_inner());
        let created = ProviderTemplate {
            provider_id: format!("SANDBOX-TEMPLATE-{}", templates.len() + 1),
            name: t.name.clone(),
            language: t.language.clone(),
            category: t.category.clone(),
            status: "PENDING".into(),
            rejection_reason: None,
            components: t.components.clone(),
        };
        templates.push((created.clone(), Instant::now()));
        Ok(created)
    }

    async fn list_templates(&self) -> Result<Vec<ProviderTemplate>, ProviderError> {
        let templates = self.templates.lock().unwrap_or_else(|e| e.into_inner());
        let reviewed = |(t, at): &(ProviderTemplate, Instant)| {
            let mut t = t.clone();
            if at.elapsed() >= self.approval_delay {
                let rejected = t.name.starts_with("reject_");
                t.status = if rejected { "REJECTED" } else { "APPROVED" }.into();
                t.rejection_reason = rejected.then(|| "INVALID_FORMAT".into());
            }
            t
        };
        Ok(templates.iter().map(reviewed).collect())
    }

    async fn delete_template(&self, name: &str, provider_id: Option<&str>) -> Result<(), ProviderError> {
        let mut templates = self.templates.lock().unwrap_or_else(|e| e.into_inner());
        templates.retain(|(t, _)| t.name != name || provider_id.is_some_and(|id| id != t.provider_id));
        Ok(())
    }

    async fn list_phone_numbers(&self) -> Result<Vec<ProviderPhoneNumber>, ProviderError> {
        Ok(vec![ProviderPhoneNumber {
            id: SANDBOX_PHONE_NUMBER_ID.into(),
            display_phone_number: "+1 555-000-0001".into(),
            verified_name: Some("wabahub sandbox".into()),
            status: Some("CONNECTED".into()),
            quality_rating: Some("GREEN".into()),
            messaging_limit_tier: Some("TIER_250".into()),
            throughput_level: Some("STANDARD".into()),
        }])
    }

    async fn register_number(&self, _id: &str, _pin: &str) -> Result<(), ProviderError> {
        Ok(())
    }

    async fn request_code(&self, _id: &str, _method: CodeMethod, _language: &str) -> Result<(), ProviderError> {
        Ok(())
    }

    async fn verify_code(&self, _id: &str, _code: &str) -> Result<(), ProviderError> {
        Ok(())
    }

    async fn create_flow(&self, _name: &str, _categories: &[String]) -> Result<String, ProviderError> {
        let mut count = self.flows.lock().unwrap_or_else(|e| e.into_inner());
        *count += 1;
        Ok(format!("SANDBOX-FLOW-{count}"))
    }

    async fn upload_flow_json(&self, _id: &str, _json: &Value) -> Result<Vec<FlowValidationError>, ProviderError> {
        Ok(Vec::new())
    }

    async fn publish_flow(&self, _id: &str) -> Result<(), ProviderError> {
        Ok(())
    }

    async fn deprecate_flow(&self, _id: &str) -> Result<(), ProviderError> {
        Ok(())
    }

    async fn delete_flow(&self, _id: &str) -> Result<(), ProviderError> {
        Ok(())
    }

    async fn health_check(&self) -> HealthReport {
        HealthReport {
            status: HealthStatus::Healthy,
            can_send_message: true,
            details: json!({"can_send_message": "AVAILABLE", "provider": "sandbox"}),
            error: None,
            callback_url: None,
        }
    }

    fn verify_signature(&self, raw_body: &[u8], header: Option<&str>) -> bool {
        super::meta::signature::verify(SANDBOX_APP_SECRET, raw_body, header)
    }
}

#[cfg(test)]
#[path = "sandbox_tests.rs"]
mod tests;
