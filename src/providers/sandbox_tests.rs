//! The sandbox's documented behaviour: ids, test numbers, template approval, statuses.

use std::time::Duration;

use serde_json::json;

use super::{SANDBOX_APP_SECRET, SandboxProvider};
use crate::providers::meta::signature::sign;
use crate::providers::{DeliveryStatus, HealthStatus, NewTemplate, OutboundMessage, Provider, ProviderErrorKind};

fn to(number: &str) -> OutboundMessage {
    serde_json::from_value(json!({"to": number, "callback_data": "msg-1", "body": {"type": "text", "body": "hi"}}))
        .unwrap()
}

fn template(name: &str) -> NewTemplate {
    NewTemplate {
        name: name.into(),
        language: "en".into(),
        category: "UTILITY".into(),
        parameter_format: None,
        components: json!([{"type": "BODY", "text": "Hi"}]),
    }
}

#[tokio::test]
async fn accepts_sends_with_sandbox_ids() {
    let sandbox = SandboxProvider::new(Duration::ZERO);
    let a = sandbox.send_message(&to("+919876543210")).await.unwrap();
    let b = sandbox.send_message(&to("+919876543210")).await.unwrap();
    assert!(a.provider_message_id.starts_with("wamid.SANDBOX."), "{}", a.provider_message_id);
    assert_ne!(a.provider_message_id, b.provider_message_id);
    assert_eq!(a.status, "accepted");
    assert_eq!(a.raw["messages"][0]["id"], a.provider_message_id.as_str());
}

#[tokio::test]
async fn documented_test_numbers_fail() {
    let sandbox = SandboxProvider::new(Duration::ZERO);
    let cases = [
        ("+14155550000", ProviderErrorKind::InvalidRecipient, 131026),
        ("+14155550429", ProviderErrorKind::RateLimited, 130429),
        ("+14155550190", ProviderErrorKind::AuthFailed, 190),
    ];
    for (number, kind, code) in cases {
        let err = sandbox.send_message(&to(number)).await.unwrap_err();
        assert_eq!((err.kind, err.code), (kind, Some(code)), "{number}");
    }
    assert!(sandbox.send_message(&to("+14155550429")).await.unwrap_err().retry_after.is_some());
}

#[tokio::test]
async fn statuses_go_sent_delivered_read_with_our_id() {
    let sandbox = SandboxProvider::new(Duration::ZERO);
    let msg = to("+919876543210");
    let receipt = sandbox.send_message(&msg).await.unwrap();
    let events = sandbox.simulated_statuses(&msg, &receipt);
    let statuses: Vec<_> = events.iter().map(|e| e.status).collect();
    assert_eq!(statuses, [DeliveryStatus::Sent, DeliveryStatus::Delivered, DeliveryStatus::Read]);
    assert!(events.iter().all(|e| e.provider_message_id == receipt.provider_message_id));
    assert!(events.iter().all(|e| e.callback_data.as_deref() == Some("msg-1") && e.recipient == "919876543210"));
    assert!(events.windows(2).all(|w| w[0].timestamp < w[1].timestamp));
}

#[tokio::test]
async fn numbers_ending_1026_fail_after_sent() {
    let sandbox = SandboxProvider::new(Duration::ZERO);
    let msg = to("+14155551026");
    let receipt = sandbox.send_message(&msg).await.unwrap();
    let events = sandbox.simulated_statuses(&msg, &receipt);
    assert_eq!(events.iter().map(|e| e.status).collect::<Vec<_>>(), [DeliveryStatus::Sent, DeliveryStatus::Failed]);
    assert_eq!(events[1].error.as_ref().map(|e| e.0), Some(131026));
}

#[tokio::test]
async fn templates_are_approved_after_the_delay() {
    let sandbox = SandboxProvider::new(Duration::from_millis(150));
    assert_eq!(sandbox.create_template(&template("welcome")).await.unwrap().status, "PENDING");
    sandbox.create_template(&template("reject_me")).await.unwrap();
    let listed = sandbox.list_templates().await.unwrap();
    assert!(listed.iter().all(|t| t.status == "PENDING"));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let listed = sandbox.list_templates().await.unwrap();
    assert_eq!((listed[0].status.as_str(), listed[0].rejection_reason.as_deref()), ("APPROVED", None));
    assert_eq!(
        (listed[1].status.as_str(), listed[1].rejection_reason.as_deref()),
        ("REJECTED", Some("INVALID_FORMAT"))
    );
    sandbox.delete_template("welcome", None).await.unwrap();
    assert_eq!(sandbox.list_templates().await.unwrap().len(), 1);
}

#[tokio::test]
async fn one_connected_number_healthy_account_and_flows() {
    let sandbox = SandboxProvider::new(Duration::ZERO);
    let numbers = sandbox.list_phone_numbers().await.unwrap();
    assert_eq!(numbers.len(), 1);
    assert_eq!(
        (numbers[0].status.as_deref(), numbers[0].quality_rating.as_deref()),
        (Some("CONNECTED"), Some("GREEN"))
    );
    assert_eq!(sandbox.health_check().await.status, HealthStatus::Healthy);
    let first = sandbox.create_flow("a", &[]).await.unwrap();
    assert_ne!(first, sandbox.create_flow("b", &[]).await.unwrap());
    assert!(sandbox.upload_flow_json(&first, &json!({})).await.unwrap().is_empty());
}

#[test]
fn signatures_use_the_sandbox_secret() {
    let sandbox = SandboxProvider::new(Duration::ZERO);
    let header = format!("sha256={}", hex::encode(sign(SANDBOX_APP_SECRET, b"{}")));
    assert!(sandbox.verify_signature(b"{}", Some(&header)));
    assert!(!sandbox.verify_signature(b"{ }", Some(&header)));
    assert!(!sandbox.verify_signature(b"{}", None));
}
