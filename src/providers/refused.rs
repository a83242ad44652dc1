//! The provider of an account whose provider settings break the platform's rules (a Tata base
//! URL off the allow-list, saved before the rule or under another allow-list): every operation
//! answers the same [`ProviderErrorKind::UrlNotAllowed`] error and nothing is sent anywhere.

use async_trait::async_trait;
use serde_json::{Value, json};

use super::Provider;
use super::error::{ProviderError, ProviderErrorKind};
use super::message::OutboundMessage;
use super::types::*;

/// Refuses every call with one error.
pub struct RefusedProvider {
    kind: &'static str,
    message: String,
}

impl RefusedProvider {
    /// A `kind` provider that refuses with `message`.
    pub fn new(kind: &'static str, message: String) -> Self {
        RefusedProvider { kind, message }
    }

    fn refuse<T>(&self) -> Result<T, ProviderError> {
        Err(ProviderError::new(ProviderErrorKind::UrlNotAllowed, self.message.clone()))
    }
}

#[async_trait]
impl Provider for RefusedProvider {
    fn kind(&self) -> &'static str {
        self.kind
    }

    async fn send_message(&self, _msg: &OutboundMessage) -> Result<SendReceipt, ProviderError> {
        self.refuse()
    }

    async fn create_template(&self, _template: &NewTemplate) -> Result<ProviderTemplate, ProviderError> {
        self.refuse()
    }

    async fn list_templates(&self) -> Result<Vec<ProviderTemplate>, ProviderError> {
        self.refuse()
    }

    async fn delete_template(&self, _name: &str, _provider_id: Option<&str>) -> Result<(), ProviderError> {
        self.refuse()
    }

    async fn list_phone_numbers(&self) -> Result<Vec<ProviderPhoneNumber>, ProviderError> {
        self.refuse()
    }

    async fn register_number(&self, _id: &str, _pin: &str) -> Result<(), ProviderError> {
        self.refuse()
    }

    async fn request_code(&self, _id: &str, _method: CodeMethod, _language: &str) -> Result<(), ProviderError> {
        self.refuse()
    }

    async fn verify_code(&self, _id: &str, _code: &str) -> Result<(), ProviderError> {
        self.refuse()
    }

    async fn create_flow(&self, _name: &str, _categories: &[String]) -> Result<String, ProviderError> {
        self.refuse()
    }

    async fn upload_flow_json(&self, _id: &str, _json: &Value) -> Result<Vec<FlowValidationError>, ProviderError> {
        self.refuse()
    }

    async fn publish_flow(&self, _id: &str) -> Result<(), ProviderError> {
        self.refuse()
    }

    async fn deprecate_flow(&self, _id: &str) -> Result<(), ProviderError> {
        self.refuse()
    }

    async fn delete_flow(&self, _id: &str) -> Result<(), ProviderError> {
        self.refuse()
    }

    async fn health_check(&self) -> HealthReport {
        HealthReport {
            status: HealthStatus::Unhealthy,
            can_send_message: false,
            details: json!({"provider": self.kind, "kind": ProviderErrorKind::UrlNotAllowed.seed_code()}),
            error: Some(self.message.clone()),
            callback_url: None,
        }
    }

    fn verify_signature(&self, _raw_body: &[u8], _header: Option<&str>) -> bool {
        false
    }
}
