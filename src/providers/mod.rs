//! Providers: the one place that knows a provider's wire format. [`Provider`] takes and returns
//! provider-neutral values; [`build`] picks Meta, Tata or the local sandbox for an account.

mod codes;
pub mod error;
mod http;
pub mod interactive;
pub mod message;
pub mod meta;
pub mod refused;
pub mod sandbox;
pub mod settings;
pub mod tata;
#[cfg(test)]
mod testkit;
pub mod types;
mod wire;

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Value;

pub use error::{LocalRefusal, ProviderError, ProviderErrorKind};
pub use message::{MessageBody, OutboundMessage};
pub use settings::{ProviderConfig, ProviderCredentials};
pub use types::*;

/// A messaging provider for one account (one WABA and its default phone number).
#[async_trait]
pub trait Provider: Send + Sync {
    /// `meta`, `tata` or `sandbox`.
    fn kind(&self) -> &'static str;

    /// Sends one message; `msg.callback_data` travels as the provider's callback data.
    async fn send_message(&self, msg: &OutboundMessage) -> Result<SendReceipt, ProviderError>;

    /// Submits a template for review.
    async fn create_template(&self, template: &NewTemplate) -> Result<ProviderTemplate, ProviderError>;
    /// Every template of the account, all pages.
    async fn list_templates(&self) -> Result<Vec<ProviderTemplate>, ProviderError>;
    /// Deletes a template in all languages, or only the one with `provider_id`.
    async fn delete_template(&self, name: &str, provider_id: Option<&str>) -> Result<(), ProviderError>;

    /// Every phone number of the account, all pages.
    async fn list_phone_numbers(&self) -> Result<Vec<ProviderPhoneNumber>, ProviderError>;
    /// Registers a number for Cloud API with its 6-digit two-step PIN.
    async fn register_number(&self, phone_number_id: &str, pin: &str) -> Result<(), ProviderError>;
    /// Asks for an ownership verification code by SMS or voice.
    async fn request_code(
        &self,
        phone_number_id: &str,
        method: CodeMethod,
        language: &str,
    ) -> Result<(), ProviderError>;
    /// Confirms ownership with the received code.
    async fn verify_code(&self, phone_number_id: &str, code: &str) -> Result<(), ProviderError>;

    /// Creates a draft Flow and returns its id.
    async fn create_flow(&self, name: &str, categories: &[String]) -> Result<String, ProviderError>;
    /// Uploads the Flow JSON; returns the provider's validation errors (empty when valid).
    async fn upload_flow_json(&self, flow_id: &str, json: &Value) -> Result<Vec<FlowValidationError>, ProviderError>;
    async fn publish_flow(&self, flow_id: &str) -> Result<(), ProviderError>;
    async fn deprecate_flow(&self, flow_id: &str) -> Result<(), ProviderError>;
    /// Deletes a Flow (drafts only).
    async fn delete_flow(&self, flow_id: &str) -> Result<(), ProviderError>;

    /// Checks whether the account can send; failures are reported inside the report.
    async fn health_check(&self) -> HealthReport;

    /// Checks a webhook's signature header against its raw body; a missing header is `false`.
    fn verify_signature(&self, raw_body: &[u8], header: Option<&str>) -> bool;

    /// The status updates a simulating provider will report for an accepted send; real
    /// providers report theirs by webhook and return none here.
    fn simulated_statuses(&self, _msg: &OutboundMessage, _receipt: &SendReceipt) -> Vec<StatusEvent> {
        Vec::new()
    }
}

/// The provider for `kind` (`meta`, `tata`; anything else is the sandbox). A Tata account whose
/// own base URL breaks [`ProviderConfig::check_tata_base_url`] gets a provider that refuses
/// every call instead: the URL is never used.
pub fn build(kind: &str, creds: ProviderCredentials, cfg: &ProviderConfig) -> Arc<dyn Provider> {
    match kind {
        "meta" => Arc::new(meta::MetaProvider::new(creds, cfg)),
        "tata" => match creds.tata_base_url.as_deref().map(|u| cfg.check_tata_base_url(u)) {
            Some(Err(code)) => Arc::new(refused::RefusedProvider::new(
                "tata",
                format!("the account's tata_base_url is not allowed ({code}); set an allowed one or none"),
            )),
            _ => Arc::new(tata::TataProvider::new(creds, cfg)),
        },
        _ => Arc::new(sandbox::SandboxProvider::new(cfg.sandbox_approval_delay)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_picks_the_provider_by_kind() {
        let cfg = ProviderConfig::default();
        assert_eq!(build("meta", ProviderCredentials::default(), &cfg).kind(), "meta");
        assert_eq!(build("tata", ProviderCredentials::default(), &cfg).kind(), "tata");
        assert_eq!(build("sandbox", ProviderCredentials::default(), &cfg).kind(), "sandbox");
    }

    #[tokio::test]
    async fn a_tata_base_url_off_the_allow_list_is_never_used() {
        let cfg = ProviderConfig::default();
        let creds = ProviderCredentials {
            tata_token: Some("tata.jwt.value".into()),
            tata_base_url: Some("http://169.254.169.254".into()),
            ..Default::default()
        };
        let provider = build("tata", creds, &cfg);
        assert_eq!(provider.kind(), "tata");
        let err = provider.list_templates().await.unwrap_err();
        assert_eq!(err.kind, ProviderErrorKind::UrlNotAllowed);
        assert!(err.message.contains("not_in_allow_list"), "{}", err.message);
        assert_eq!(provider.health_check().await.status, HealthStatus::Unhealthy);
    }
}
