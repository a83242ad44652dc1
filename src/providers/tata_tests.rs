//! Tata sends: headers and body, the automation-webhook fallback, and the button-variable refusal.

use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use super::TataProvider;
use crate::providers::testkit::config;
use crate::providers::{
    NewTemplate, OutboundMessage, Provider, ProviderConfig, ProviderCredentials, ProviderErrorKind,
};

fn creds(integration: Option<&str>) -> ProviderCredentials {
    ProviderCredentials {
        tata_token: Some("tata.jwt.token".into()),
        tata_integration_id: integration.map(str::to_string),
        ..ProviderCredentials::default()
    }
}

fn message(body: Value) -> OutboundMessage {
    serde_json::from_value(json!({"to": "+919876543210", "callback_data": "msg-7", "body": body})).unwrap()
}

fn text() -> OutboundMessage {
    message(json!({"type": "text", "body": "Hello"}))
}

/// The body Tata receives for [`text`].
fn tata_body() -> Value {
    json!({"messaging_product": "whatsapp", "recipient_type": "individual", "to": "919876543210", "type": "text",
           "text": {"preview_url": false, "body": "Hello"}, "source": "external",
           "metaData": {"custom_callback_data": "msg-7"}})
}

#[tokio::test]
async fn sends_a_meta_shaped_body_with_source_and_callback_data() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/whatsapp-cloud/messages"))
        .and(header("authorization", "Bearer tata.jwt.token"))
        .and(body_json(tata_body()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"messageId": "tata-123"})))
        .expect(1)
        .mount(&server)
        .await;
    let receipt = TataProvider::new(creds(None), &config(&server)).send_message(&text()).await.unwrap();
    assert_eq!((receipt.provider_message_id.as_str(), receipt.status.as_str()), ("tata-123", "accepted"));
}

#[tokio::test]
async fn reads_the_id_from_any_known_field() {
    for (reply, id) in [(json!({"id": "a"}), "a"), (json!({"messages": [{"id": "wamid.B"}]}), "wamid.B")] {
        let server = MockServer::start().await;
        Mock::given(method("POST")).respond_with(ResponseTemplate::new(200).set_body_json(reply)).mount(&server).await;
        let receipt = TataProvider::new(creds(None), &config(&server)).send_message(&text()).await.unwrap();
        assert_eq!(receipt.provider_message_id, id);
    }
}

async fn expect_fallback(server: &MockServer) {
    Mock::given(method("POST"))
        .and(path("/automation/webhook"))
        .and(header("authorization", "Bearer tata.jwt.token"))
        .and(body_json(json!({"integration_id": "integ-9", "message": tata_body()})))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "fallback-1"})))
        .expect(1)
        .mount(server)
        .await;
}

#[tokio::test]
async fn falls_back_to_the_automation_webhook_on_5xx() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/whatsapp-cloud/messages"))
        .respond_with(ResponseTemplate::new(503))
        .expect(1)
        .mount(&server)
        .await;
    expect_fallback(&server).await;
    let receipt = TataProvider::new(creds(Some("integ-9")), &config(&server)).send_message(&text()).await.unwrap();
    assert_eq!(receipt.provider_message_id, "fallback-1");
}

#[tokio::test]
async fn falls_back_when_the_connection_is_refused() {
    let fallback = MockServer::start().await;
    expect_fallback(&fallback).await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let refused = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let cfg =
        ProviderConfig { tata_base_url: refused, tata_fallback_base_url: Some(fallback.uri()), ..config(&fallback) };
    let receipt = TataProvider::new(creds(Some("integ-9")), &cfg).send_message(&text()).await.unwrap();
    assert_eq!(receipt.provider_message_id, "fallback-1");
}

#[tokio::test]
async fn without_an_integration_id_a_5xx_is_transient() {
    let server = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(500)).expect(1).mount(&server).await;
    let err = TataProvider::new(creds(None), &config(&server)).send_message(&text()).await.unwrap_err();
    assert_eq!((err.kind, err.http_status), (ProviderErrorKind::Transient, Some(500)));
}

#[tokio::test]
async fn a_4xx_does_not_fall_back() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/whatsapp-cloud/messages"))
        .respond_with(
            ResponseTemplate::new(400).set_body_json(json!({"error": {"code": 131026, "message": "undeliverable"}})),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/automation/webhook"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&server)
        .await;
    let err = TataProvider::new(creds(Some("integ-9")), &config(&server)).send_message(&text()).await.unwrap_err();
    assert_eq!((err.kind, err.code), (ProviderErrorKind::InvalidRecipient, Some(131026)));
}

#[tokio::test]
async fn refuses_button_variables_before_any_call() {
    let server = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)).expect(0).mount(&server).await;
    let tata = TataProvider::new(creds(None), &config(&server));
    let send = message(json!({"type": "template", "name": "promo", "language": "en",
        "components": {"buttons": [{"index": 0, "sub_type": "url", "value": "promo-42"}]}}));
    assert_eq!(tata.send_message(&send).await.unwrap_err().kind, ProviderErrorKind::ButtonVariablesUnsupported);

    let template = NewTemplate {
        name: "promo".into(),
        language: "en".into(),
        category: "MARKETING".into(),
        parameter_format: None,
        components: json!([{"type": "BODY", "text": "Hi"}, {"type": "BUTTONS", "buttons": [
            {"type": "URL", "text": "Shop", "url": "https://shop.example.com/{{1}}", "example": ["https://shop.example.com/a"]}]}]),
    };
    let err = tata.create_template(&template).await.unwrap_err();
    assert_eq!(err.seed_code(), "ERR_BUTTON_VARIABLES_UNSUPPORTED");
}

#[tokio::test]
async fn a_missing_token_is_refused_before_any_call() {
    let server = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)).expect(0).mount(&server).await;
    let tata = TataProvider::new(ProviderCredentials::default(), &config(&server));
    assert_eq!(tata.send_message(&text()).await.unwrap_err().kind, ProviderErrorKind::AuthFailed);
}

#[tokio::test]
async fn unsupported_operations_are_permanent_errors() {
    let tata = TataProvider::new(creds(None), &ProviderConfig::default());
    let err = tata.list_templates().await.unwrap_err();
    assert_eq!(
        (err.kind, err.message.as_str()),
        (ProviderErrorKind::Permanent, "template listing is not supported by Tata")
    );
    assert!(tata.create_flow("f", &[]).await.unwrap_err().message.contains("not supported by Tata"));
    assert!(!tata.verify_signature(b"{}", Some("sha256=00")));
    assert!(tata.health_check().await.error.unwrap().contains("not supported by Tata"));
}

#[tokio::test]
async fn an_internal_base_url_is_refused_and_does_not_fall_back() {
    let server = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)).expect(0).mount(&server).await;
    let cfg = ProviderConfig { allow_private_urls: false, ..config(&server) };
    let err = TataProvider::new(creds(Some("integ-9")), &cfg).send_message(&text()).await.unwrap_err();
    assert_eq!((err.kind, err.maybe_delivered), (ProviderErrorKind::UrlNotAllowed, false), "{err:?}");
}
