//! The exact `POST /{ver}/{phone-number-id}/messages` request for each kind of message (reference §1).

use serde_json::{Value, json};
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::providers::testkit::*;
use crate::providers::{OutboundMessage, Provider};

/// Parses `body` as an API request, sends it, and checks Meta received exactly `expected`.
async fn sends_exactly(body: Value, expected: Value) {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("/v23.0/{PHONE_ID}/messages")))
        .and(header("authorization", AUTH))
        .and(header("content-type", "application/json"))
        .and(body_json(&expected))
        .respond_with(ResponseTemplate::new(200).set_body_json(accepted("wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI")))
        .expect(1)
        .mount(&server)
        .await;
    let msg: OutboundMessage = serde_json::from_value(body).unwrap();
    validator::Validate::validate(&msg).unwrap();
    let receipt = meta(&server).send_message(&msg).await.unwrap();
    assert_eq!(
        (receipt.provider_message_id.as_str(), receipt.status.as_str()),
        ("wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI", "accepted")
    );
}

fn envelope(kind: &str, payload: Value) -> Value {
    json!({"messaging_product": "whatsapp", "recipient_type": "individual", "to": "919876543210", "type": kind, kind: payload})
}

#[tokio::test]
async fn text_with_callback_data_and_context() {
    let mut expected = envelope("text", json!({"preview_url": true, "body": "Hello"}));
    expected["context"] = json!({"message_id": "wamid.PREV"});
    expected["biz_opaque_callback_data"] = json!("msg-42");
    let body = json!({"to": "+91 98765 43210", "callback_data": "msg-42", "reply_to": "wamid.PREV",
                      "body": {"type": "text", "body": "Hello", "preview_url": true}});
    sends_exactly(body, expected).await;
}

#[tokio::test]
async fn template_with_header_image_body_params_and_buttons() {
    let expected = envelope(
        "template",
        json!({"name": "order_update", "language": {"code": "en_US"}, "components": [
        {"type": "header", "parameters": [{"type": "image", "image": {"link": "https://cdn.example.com/a.jpg"}}]},
        {"type": "body", "parameters": [{"type": "text", "text": "Pablo"}, {"type": "text", "parameter_name": "order", "text": "#12"}]},
        {"type": "button", "sub_type": "quick_reply", "index": "0", "parameters": [{"type": "payload", "payload": "STOP"}]},
        {"type": "button", "sub_type": "url", "index": "1", "parameters": [{"type": "text", "text": "url-suffix"}]}]}),
    );
    let body = json!({"to": "+919876543210", "body": {"type": "template", "name": "order_update", "language": "en_US",
        "components": {"header": {"type": "image", "link": "https://cdn.example.com/a.jpg"},
            "body": [{"text": "Pablo"}, {"text": "#12", "parameter_name": "order"}],
            "buttons": [{"index": 0, "sub_type": "quick_reply", "value": "STOP"}, {"index": 1, "sub_type": "url", "value": "url-suffix"}]}}});
    sends_exactly(body, expected).await;
}

#[tokio::test]
async fn template_without_parameters_has_no_components() {
    let expected = envelope("template", json!({"name": "hello_world", "language": {"code": "en_US"}}));
    let body = json!({"to": "+919876543210", "body": {"type": "template", "name": "hello_world", "language": "en_US"}});
    sends_exactly(body, expected).await;
}

#[tokio::test]
async fn interactive_reply_buttons() {
    let expected = envelope(
        "interactive",
        json!({"type": "button",
        "header": {"type": "text", "text": "Order #12"}, "body": {"text": "Confirm?"}, "footer": {"text": "Acme"},
        "action": {"buttons": [{"type": "reply", "reply": {"id": "yes", "title": "Yes"}},
                               {"type": "reply", "reply": {"id": "no", "title": "No"}}]}}),
    );
    let body = json!({"to": "+919876543210", "body": {"type": "interactive",
        "header": {"type": "text", "text": "Order #12"}, "body": "Confirm?", "footer": "Acme",
        "action": {"type": "buttons", "buttons": [{"id": "yes", "title": "Yes"}, {"id": "no", "title": "No"}]}}});
    sends_exactly(body, expected).await;
}

#[tokio::test]
async fn interactive_list() {
    let expected = envelope(
        "interactive",
        json!({"type": "list", "body": {"text": "Pick a slot"},
        "action": {"button": "Slots", "sections": [{"title": "Morning",
            "rows": [{"id": "9", "title": "9:00", "description": "Front desk"}, {"id": "10", "title": "10:00"}]}]}}),
    );
    let body = json!({"to": "+919876543210", "body": {"type": "interactive", "body": "Pick a slot",
        "action": {"type": "list", "button": "Slots", "sections": [{"title": "Morning",
            "rows": [{"id": "9", "title": "9:00", "description": "Front desk"}, {"id": "10", "title": "10:00"}]}]}}});
    sends_exactly(body, expected).await;
}

#[tokio::test]
async fn interactive_cta_url() {
    let expected = envelope(
        "interactive",
        json!({"type": "cta_url",
        "header": {"type": "image", "image": {"link": "https://cdn.example.com/b.png"}}, "body": {"text": "See your order"},
        "action": {"name": "cta_url", "parameters": {"display_text": "Open", "url": "https://shop.example.com/o/12"}}}),
    );
    let body = json!({"to": "+919876543210", "body": {"type": "interactive",
        "header": {"type": "image", "link": "https://cdn.example.com/b.png"}, "body": "See your order",
        "action": {"type": "cta_url", "display_text": "Open", "url": "https://shop.example.com/o/12"}}});
    sends_exactly(body, expected).await;
}

#[tokio::test]
async fn interactive_flow() {
    let expected = envelope(
        "interactive",
        json!({"type": "flow", "header": {"type": "text", "text": "Sign up"},
        "body": {"text": "Join us"}, "action": {"name": "flow", "parameters": {"flow_message_version": "3",
            "flow_id": "1234", "flow_cta": "Open Flow!", "flow_token": "tok-1", "flow_action": "navigate",
            "flow_action_payload": {"screen": "WELCOME", "data": {"k": "v"}}, "mode": "draft"}}}),
    );
    let body = json!({"to": "+919876543210", "body": {"type": "interactive", "header": {"type": "text", "text": "Sign up"},
        "body": "Join us", "action": {"type": "flow", "flow_id": "1234", "flow_cta": "Open Flow!", "flow_token": "tok-1",
            "screen": "WELCOME", "data": {"k": "v"}, "draft": true}}});
    sends_exactly(body, expected).await;
}

#[tokio::test]
async fn media_document_and_image() {
    let expected = envelope(
        "document",
        json!({"link": "https://cdn.example.com/i.pdf", "caption": "Invoice", "filename": "i.pdf"}),
    );
    let body = json!({"to": "+919876543210", "body": {"type": "media", "kind": "document",
        "link": "https://cdn.example.com/i.pdf", "caption": "Invoice", "filename": "i.pdf"}});
    sends_exactly(body, expected).await;
    let expected = envelope("image", json!({"link": "https://cdn.example.com/a.jpg"}));
    let body = json!({"to": "+919876543210", "body": {"type": "media", "kind": "image", "link": "https://cdn.example.com/a.jpg"}});
    sends_exactly(body, expected).await;
}

#[tokio::test]
async fn held_messages_keep_their_status() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(
                json!({"messages": [{"id": "wamid.X", "message_status": "held_for_quality_assessment"}]}),
            ),
        )
        .mount(&server)
        .await;
    let msg = text_message();
    assert_eq!(meta(&server).send_message(&msg).await.unwrap().status, "held_for_quality_assessment");
}

#[tokio::test]
async fn a_reply_without_an_id_is_not_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"messages": []})))
        .mount(&server)
        .await;
    let msg = text_message();
    let err = meta(&server).send_message(&msg).await.unwrap_err();
    assert!(!err.is_retryable(), "{err}");
}

#[tokio::test]
async fn missing_credentials_are_refused_before_any_call() {
    let server = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)).expect(0).mount(&server).await;
    let msg = text_message();
    let cfg = config(&server);
    let no_token = crate::providers::ProviderCredentials { access_token: None, ..meta_creds() };
    let err = crate::providers::build("meta", no_token, &cfg).send_message(&msg).await.unwrap_err();
    assert_eq!(err.kind, crate::providers::ProviderErrorKind::AuthFailed);
    let no_number = crate::providers::ProviderCredentials { phone_number_id: None, ..meta_creds() };
    let err = crate::providers::build("meta", no_number, &cfg).send_message(&msg).await.unwrap_err();
    assert_eq!(err.kind, crate::providers::ProviderErrorKind::Permanent);
}
