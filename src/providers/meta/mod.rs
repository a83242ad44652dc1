//! Meta WhatsApp Cloud API over the Graph API: `{META_GRAPH_URL}/{version}/…` with
//! `Authorization: Bearer <token>` (reference §1–§10).

mod flows;
mod health;
mod phones;
pub mod signature;
pub mod signup;
mod templates;

use async_trait::async_trait;
use reqwest::multipart::Form;
use reqwest::{Method, RequestBuilder};
use serde_json::Value;

use super::Provider;
use super::error::{ProviderError, ProviderErrorKind};
use super::http::{call, client};
use super::message::OutboundMessage;
use super::settings::{ProviderConfig, ProviderCredentials};
use super::types::*;
use crate::outbound::Client;

/// A Graph API client for one WABA and its default phone number.
pub struct MetaProvider {
    http: Client,
    /// `{graph_url}/{version}`, no trailing slash.
    base: String,
    token: String,
    app_secret: String,
    waba_id: String,
    phone_number_id: String,
}

impl MetaProvider {
    pub fn new(creds: ProviderCredentials, cfg: &ProviderConfig) -> Self {
        MetaProvider {
            http: client(cfg),
            base: versioned_base(cfg),
            token: creds.access_token.unwrap_or_default(),
            app_secret: creds.app_secret.unwrap_or_default(),
            waba_id: creds.waba_id.unwrap_or_default(),
            phone_number_id: creds.phone_number_id.unwrap_or_default(),
        }
    }

    /// Sends an authorised request to `{base}/{path}`, shaped by `build`; refused before any call
    /// when the account lacks its token or the id the path starts with.
    async fn call(
        &self,
        method: Method,
        path: &str,
        build: impl FnOnce(RequestBuilder) -> RequestBuilder,
    ) -> Result<Value, ProviderError> {
        if self.token.is_empty() {
            return Err(ProviderError::credentials_missing(
                ProviderErrorKind::AuthFailed,
                "the account has no Meta access token",
            ));
        }
        if path.is_empty() || path.starts_with('/') {
            return Err(ProviderError::credentials_missing(
                ProviderErrorKind::Permanent,
                "the account has no WABA or phone number id",
            ));
        }
        let url = format!("{}/{}", self.base, path);
        call(&self.http, method, &url, |r| build(r.bearer_auth(&self.token))).await
    }

    async fn get(&self, path: &str, query: &[(&str, &str)]) -> Result<Value, ProviderError> {
        self.call(Method::GET, path, |r| r.query(query)).await
    }

    async fn post(&self, path: &str, body: &Value) -> Result<Value, ProviderError> {
        self.call(Method::POST, path, |r| r.json(body)).await
    }

    async fn post_empty(&self, path: &str) -> Result<Value, ProviderError> {
        self.call(Method::POST, path, |r| r).await
    }

    async fn post_form(&self, path: &str, form: Form) -> Result<Value, ProviderError> {
        self.call(Method::POST, path, |r| r.multipart(form)).await
    }

    async fn delete(&self, path: &str, query: &[(&str, &str)]) -> Result<Value, ProviderError> {
        self.call(Method::DELETE, path, |r| r.query(query)).await
    }

    /// Every item of a paged list: follows `paging.cursors.after` while `paging.next` is present.
    /// The `next` URL itself is never fetched, so our token only goes to the configured host.
    async fn get_all(&self, path: &str, query: &[(&str, &str)]) -> Result<Vec<Value>, ProviderError> {
        let mut items = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let mut q = query.to_vec();
            if let Some(cursor) = &after {
                q.push(("after", cursor));
            }
            let page = self.get(path, &q).await?;
            items.extend(page["data"].as_array().cloned().unwrap_or_default());
            let next = page.pointer("/paging/cursors/after").and_then(Value::as_str).map(str::to_string);
            match next.filter(|_| page.pointer("/paging/next").is_some()) {
                Some(cursor) if after.as_ref() != Some(&cursor) => after = Some(cursor),
                _ => return Ok(items),
            }
        }
    }
}

/// `{graph_url}/{version}` without a trailing slash.
fn versioned_base(cfg: &ProviderConfig) -> String {
    format!("{}/{}", cfg.meta_graph_url.trim_end_matches('/'), cfg.meta_api_version)
}

/// `{"success": true}` or an error naming the operation.
fn expect_success(reply: &Value, what: &str) -> Result<(), ProviderError> {
    if reply["success"].as_bool() == Some(true) {
        Ok(())
    } else {
        Err(ProviderError::new(ProviderErrorKind::Permanent, format!("{what} was not confirmed by Meta")))
    }
}

#[async_trait]
impl Provider for MetaProvider {
    fn kind(&self) -> &'static str {
        "meta"
    }

    async fn send_message(&self, msg: &OutboundMessage) -> Result<SendReceipt, ProviderError> {
        let path = format!("{}/messages", self.phone_number_id);
        let raw = self.post(&path, &msg.to_meta_json()).await?;
        SendReceipt::from_reply(raw.pointer("/messages/0/id").and_then(Value::as_str).map(str::to_string), raw)
    }

    async fn create_template(&self, template: &NewTemplate) -> Result<ProviderTemplate, ProviderError> {
        self.create_template_impl(template).await
    }

    async fn list_templates(&self) -> Result<Vec<ProviderTemplate>, ProviderError> {
        self.list_templates_impl().await
    }

    async fn delete_template(&self, name: &str, provider_id: Option<&str>) -> Result<(), ProviderError> {
        self.delete_template_impl(name, provider_id).await
    }

    async fn list_phone_numbers(&self) -> Result<Vec<ProviderPhoneNumber>, ProviderError> {
        self.list_phone_numbers_impl().await
    }

    async fn register_number(&self, phone_number_id: &str, pin: &str) -> Result<(), ProviderError> {
        let body = serde_json::json!({"messaging_product": "whatsapp", "pin": pin});
        expect_success(&self.post(&format!("{phone_number_id}/register"), &body).await?, "register")
    }

    async fn request_code(
        &self,
        phone_number_id: &str,
        method: CodeMethod,
        language: &str,
    ) -> Result<(), ProviderError> {
        let body = serde_json::json!({"code_method": method.as_str(), "language": language});
        expect_success(&self.post(&format!("{phone_number_id}/request_code"), &body).await?, "request_code")
    }

    async fn verify_code(&self, phone_number_id: &str, code: &str) -> Result<(), ProviderError> {
        let body = serde_json::json!({"code": code});
        expect_success(&self.post(&format!("{phone_number_id}/verify_code"), &body).await?, "verify_code")
    }

    async fn create_flow(&self, name: &str, categories: &[String]) -> Result<String, ProviderError> {
        self.create_flow_impl(name, categories).await
    }

    async fn upload_flow_json(&self, flow_id: &str, json: &Value) -> Result<Vec<FlowValidationError>, ProviderError> {
        self.upload_flow_json_impl(flow_id, json).await
    }

    async fn publish_flow(&self, flow_id: &str) -> Result<(), ProviderError> {
        expect_success(&self.post_empty(&format!("{flow_id}/publish")).await?, "publish")
    }

    async fn deprecate_flow(&self, flow_id: &str) -> Result<(), ProviderError> {
        expect_success(&self.post_empty(&format!("{flow_id}/deprecate")).await?, "deprecate")
    }

    async fn delete_flow(&self, flow_id: &str) -> Result<(), ProviderError> {
        expect_success(&self.delete(flow_id, &[]).await?, "delete flow")
    }

    async fn health_check(&self) -> HealthReport {
        self.health_check_impl().await
    }

    fn verify_signature(&self, raw_body: &[u8], header: Option<&str>) -> bool {
        signature::verify(&self.app_secret, raw_body, header)
    }
}

#[cfg(test)]
mod error_tests;
#[cfg(test)]
mod send_tests;
