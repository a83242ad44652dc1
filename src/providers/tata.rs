//! Tata Tele Business Omni (reference §13, mostly UNSURE): Meta-shaped bodies posted to
//! `POST {base}/whatsapp-cloud/messages` with `Authorization: Bearer <jwt>`, plus
//! `"source":"external"` and `"metaData":{"custom_callback_data": <our id>}`.
//!
//! **Fallback**: when that call cannot connect or answers 5xx, and the account has an
//! integration id, the same body is posted to `POST {base}/automation/webhook` (or on
//! `ProviderConfig::tata_fallback_base_url` when set) as
//! `{"integration_id": <id>, "message": <body>}`. A timeout does not fall back: the first
//! request may have reached Tata, and a message is never sent twice.
//!
//! Tata cannot fill variables in buttons: such template sends and creations are refused with
//! `ButtonVariablesUnsupported` before any HTTP call. Template, number and Flow management are
//! not offered by Tata's API and return a `Permanent` "not supported by Tata" error, refused
//! locally (`LocalRefusal::NotSupported`). Tata signs no webhooks, so `verify_signature` is always `false`: its callbacks need another check.

use async_trait::async_trait;
use reqwest::Method;
use serde_json::{Value, json};

use super::Provider;
use super::error::{LocalRefusal, ProviderError, ProviderErrorKind};
use super::http::{client, read};
use super::message::{MessageBody, OutboundMessage};
use super::settings::{ProviderConfig, ProviderCredentials};
use super::types::*;
use crate::outbound::{Client, SendError};

/// A Tata Omni client for one number (its JWT names the number).
pub struct TataProvider {
    http: Client,
    base: String,
    fallback_base: String,
    token: String,
    integration_id: Option<String>,
}

impl TataProvider {
    pub fn new(creds: ProviderCredentials, cfg: &ProviderConfig) -> Self {
        let base = creds.tata_base_url.unwrap_or_else(|| cfg.tata_base_url.clone()).trim_end_matches('/').to_string();
        let fallback_base = cfg.tata_fallback_base_url.as_deref().map(|u| u.trim_end_matches('/').to_string());
        TataProvider {
            http: client(cfg),
            fallback_base: fallback_base.unwrap_or_else(|| base.clone()),
            base,
            token: creds.tata_token.unwrap_or_default(),
            integration_id: creds.tata_integration_id,
        }
    }

    /// The primary call; `Ok(Err(e))` when it failed in a way that allows the fallback.
    async fn send_primary(&self, body: &Value) -> Result<Result<Value, ProviderError>, ProviderError> {
        let url = format!("{}/whatsapp-cloud/messages", self.base);
        match self.http.send(Method::POST, &url, |r| r.bearer_auth(&self.token).json(body)).await {
            Err(e @ SendError::Failed { connect: true, .. }) => Ok(Err(ProviderError::from_send(e))),
            Err(e) => Err(ProviderError::from_send(e)),
            Ok(response) => match read(response).await {
                Err(e) if e.http_status.is_some_and(|s| s >= 500) => Ok(Err(e)),
                other => other.map(Ok),
            },
        }
    }

    async fn send_fallback(&self, integration_id: &str, body: Value) -> Result<Value, ProviderError> {
        let url = format!("{}/automation/webhook", self.fallback_base);
        let wrapped = json!({"integration_id": integration_id, "message": body});
        super::http::call(&self.http, Method::POST, &url, |r| r.bearer_auth(&self.token).json(&wrapped)).await
    }
}

fn button_variables() -> ProviderError {
    ProviderError::new(ProviderErrorKind::ButtonVariablesUnsupported, "Tata does not support variables in buttons")
        .refused_locally(LocalRefusal::NotSupported)
}

/// Whether any string inside the template's BUTTONS components holds a `{{…}}` variable.
fn buttons_have_variables(components: &Value) -> bool {
    fn has_placeholder(v: &Value) -> bool {
        match v {
            Value::String(s) => s.contains("{{"),
            Value::Array(items) => items.iter().any(has_placeholder),
            Value::Object(map) => map.values().any(has_placeholder),
            _ => false,
        }
    }
    let components = components.as_array().map(Vec::as_slice).unwrap_or_default();
    components
        .iter()
        .filter(|c| c["type"].as_str().is_some_and(|t| t.eq_ignore_ascii_case("buttons")))
        .any(has_placeholder)
}

/// The message id from `messageId`, `id` or `messages[0].id`.
fn message_id(reply: &Value) -> Option<String> {
    [reply.get("messageId"), reply.get("id"), reply.pointer("/messages/0/id")]
        .into_iter()
        .flatten()
        .find_map(|v| v.as_str().map(str::to_string).or_else(|| v.as_i64().map(|n| n.to_string())))
}

#[async_trait]
impl Provider for TataProvider {
    fn kind(&self) -> &'static str {
        "tata"
    }

    async fn send_message(&self, msg: &OutboundMessage) -> Result<SendReceipt, ProviderError> {
        if let MessageBody::Template(t) = &msg.body
            && t.components.buttons.iter().any(|b| b.sub_type.is_variable())
        {
            return Err(button_variables());
        }
        if self.token.is_empty() {
            return Err(ProviderError::credentials_missing(
                ProviderErrorKind::AuthFailed,
                "the account has no Tata token",
            ));
        }
        let mut body = msg.to_meta_json();
        if let Some(obj) = body.as_object_mut() {
            obj.remove("biz_opaque_callback_data");
        }
        body["source"] = json!("external");
        if let Some(data) = &msg.callback_data {
            body["metaData"] = json!({"custom_callback_data": data});
        }
        let raw = match (self.send_primary(&body).await?, &self.integration_id) {
            (Ok(reply), _) => reply,
            (Err(_), Some(integration)) => self.send_fallback(integration, body).await?,
            (Err(unavailable), None) => return Err(unavailable),
        };
        SendReceipt::from_reply(message_id(&raw), raw)
    }

    async fn create_template(&self, template: &NewTemplate) -> Result<ProviderTemplate, ProviderError> {
        if buttons_have_variables(&template.components) {
            return Err(button_variables());
        }
        Err(ProviderError::unsupported("Tata", "template creation"))
    }

    async fn list_templates(&self) -> Result<Vec<ProviderTemplate>, ProviderError> {
        Err(ProviderError::unsupported("Tata", "template listing"))
    }

    async fn delete_template(&self, _name: &str, _provider_id: Option<&str>) -> Result<(), ProviderError> {
        Err(ProviderError::unsupported("Tata", "template deletion"))
    }

    async fn list_phone_numbers(&self) -> Result<Vec<ProviderPhoneNumber>, ProviderError> {
        Err(ProviderError::unsupported("Tata", "phone number listing"))
    }

    async fn register_number(&self, _id: &str, _pin: &str) -> Result<(), ProviderError> {
        Err(ProviderError::unsupported("Tata", "number registration"))
    }

    async fn request_code(&self, _id: &str, _method: CodeMethod, _language: &str) -> Result<(), ProviderError> {
        Err(ProviderError::unsupported("Tata", "code verification"))
    }

    async fn verify_code(&self, _id: &str, _code: &str) -> Result<(), ProviderError> {
        Err(ProviderError::unsupported("Tata", "code verification"))
    }

    async fn create_flow(&self, _name: &str, _categories: &[String]) -> Result<String, ProviderError> {
        Err(ProviderError::unsupported("Tata", "Flows"))
    }

    async fn upload_flow_json(&self, _id: &str, _json: &Value) -> Result<Vec<FlowValidationError>, ProviderError> {
        Err(ProviderError::unsupported("Tata", "Flows"))
    }

    async fn publish_flow(&self, _id: &str) -> Result<(), ProviderError> {
        Err(ProviderError::unsupported("Tata", "Flows"))
    }

    async fn deprecate_flow(&self, _id: &str) -> Result<(), ProviderError> {
        Err(ProviderError::unsupported("Tata", "Flows"))
    }

    async fn delete_flow(&self, _id: &str) -> Result<(), ProviderError> {
        Err(ProviderError::unsupported("Tata", "Flows"))
    }

    /// Tata has no health endpoint: a missing token is unhealthy, otherwise degraded (unknown).
    async fn health_check(&self) -> HealthReport {
        let has_token = !self.token.is_empty();
        HealthReport {
            status: if has_token { HealthStatus::Degraded } else { HealthStatus::Unhealthy },
            can_send_message: has_token,
            details: json!({"provider": "tata"}),
            error: Some(if has_token { "health check is not supported by Tata" } else { "no Tata token" }.into()),
            callback_url: None,
        }
    }

    fn verify_signature(&self, _raw_body: &[u8], _header: Option<&str>) -> bool {
        false
    }
}

#[cfg(test)]
#[path = "tata_tests.rs"]
mod tests;
