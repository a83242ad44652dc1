//! Test helpers: providers pointed at a local `wiremock` server on 127.0.0.1.

use serde_json::{Value, json};
use wiremock::MockServer;

use super::message::OutboundMessage;
use super::meta::MetaProvider;
use super::settings::{ProviderConfig, ProviderCredentials};

pub const TOKEN: &str = "test-token";
pub const AUTH: &str = "Bearer test-token";
pub const WABA: &str = "102290129340398";
pub const PHONE_ID: &str = "106540352242922";

/// Settings pointing every base URL at `server` (on 127.0.0.1, so private URLs are allowed).
pub fn config(server: &MockServer) -> ProviderConfig {
    ProviderConfig {
        meta_graph_url: server.uri(),
        tata_base_url: server.uri(),
        allow_private_urls: true,
        ..ProviderConfig::default()
    }
}

/// Meta credentials for the test WABA and number.
pub fn meta_creds() -> ProviderCredentials {
    ProviderCredentials {
        access_token: Some(TOKEN.into()),
        app_secret: Some("app-secret".into()),
        waba_id: Some(WABA.into()),
        phone_number_id: Some(PHONE_ID.into()),
        ..ProviderCredentials::default()
    }
}

pub fn meta(server: &MockServer) -> MetaProvider {
    MetaProvider::new(meta_creds(), &config(server))
}

/// A Meta send reply with `id`.
pub fn accepted(id: &str) -> Value {
    json!({"messaging_product": "whatsapp",
           "contacts": [{"input": "919876543210", "wa_id": "919876543210"}],
           "messages": [{"id": id, "message_status": "accepted"}]})
}

/// A Graph error object with `code`.
pub fn graph_error(code: i64, message: &str) -> Value {
    json!({"error": {"message": message, "type": "OAuthException", "code": code,
        "error_data": {"messaging_product": "whatsapp", "details": format!("details of {code}")},
        "fbtrace_id": "Az8or2yhqkZfEZ-_4Qn_Bam"}})
}

/// A text message to +91 98765 43210.
pub fn text_message() -> OutboundMessage {
    serde_json::from_value(json!({"to": "+919876543210", "body": {"type": "text", "body": "hi"}})).unwrap()
}
