//! The webhook relay: endpoint management, signed deliveries to a fake receiver, retries with the
//! same event id, replay, expiry and tenant isolation.

use std::collections::HashSet;
use std::time::Duration;

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

use crate::helpers::*;
use crate::messages::{sandbox_account, settle};

const BASE: &str = "/api/v1/webhook-endpoints";

/// An app that may deliver to the fake receiver on 127.0.0.1.
async fn relay_app() -> TestApp {
    spawn_app_with(|s| s.allow_private_urls = true).await
}

async fn create(app: &TestApp, token: &str, url: &str, types: &[&str]) -> Value {
    app.post(BASE, token, json!({"url": url, "event_types": types})).await.expect(201)
}

/// Checks `X-Wabahub-Signature` the way a receiver would; returns the event id.
fn verify(req: &Request, secret: &str) -> String {
    let header = |name: &str| req.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    assert_eq!(header("content-type"), "application/json");
    let sig = header("x-wabahub-signature");
    let (t, v1) = sig.split_once(",v1=").expect("t=…,v1=…");
    let t = t.strip_prefix("t=").expect("t=");
    let age = chrono::Utc::now().timestamp() - t.parse::<i64>().unwrap();
    assert!((0..60).contains(&age), "timestamp {t} is not recent");
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.").as_bytes());
    mac.update(&req.body);
    mac.verify_slice(&hex::decode(v1).unwrap()).expect("signature must verify with the endpoint secret");
    let body: Value = serde_json::from_slice(&req.body).unwrap();
    assert_eq!(body["id"], header("x-wabahub-event-id"));
    assert_eq!(body["type"], header("x-wabahub-event-type"));
    header("x-wabahub-event-id")
}

/// Polls the fake until it has received `n` requests (or 15 s pass).
async fn received(fake: &MockServer, n: usize) -> Vec<Request> {
    for _ in 0..300 {
        let got = fake.received_requests().await.unwrap();
        if got.len() >= n {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the receiver got {} requests, expected {n}", fake.received_requests().await.unwrap().len());
}

/// Polls an endpoint's delivery log until its newest delivery has `status` (or 15 s pass).
async fn delivery_with(app: &TestApp, token: &str, endpoint: i64, status: &str) -> Value {
    for _ in 0..300 {
        let list = app.get(&format!("{BASE}/{endpoint}/deliveries"), token).await.expect(200);
        if list["data"][0]["status"] == status {
            return list["data"][0].clone();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no delivery of endpoint {endpoint} became {status}");
}

#[actix_web::test]
async fn endpoints_are_created_listed_updated_and_deleted_with_the_secret_shown_once() {
    let app = relay_app().await;
    let t = app.signup("hooks").await;
    let created = create(&app, &t.token, "http://127.0.0.1:9/in", &["message.status"]).await;
    let id = created["id"].as_i64().unwrap();
    let secret = created["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_") && secret.len() > 40, "{secret}");
    assert_eq!(created["event_types"], json!(["message.status"]));
    assert_eq!(created["active"], true);

    let got = app.get(&format!("{BASE}/{id}"), &t.token).await.expect(200);
    assert!(got.get("secret").is_none());
    let list = app.get(BASE, &t.token).await.expect(200);
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
    assert!(!list.to_string().contains(&secret));
    assert!(!raw_dump(&app).await.contains(&secret), "the secret is stored in plain text");

    let body = json!({"event_types": ["message.status", "template.updated"], "active": false, "description": "crm"});
    let updated = app.patch(&format!("{BASE}/{id}"), &t.token, body).await.expect(200);
    assert_eq!(updated["event_types"], json!(["message.status", "template.updated"]));
    assert_eq!(updated["active"], false);
    assert_eq!(updated["description"], "crm");

    let rotated = app.post(&format!("{BASE}/{id}/rotate-secret"), &t.token, json!({})).await.expect(200);
    let new_secret = rotated["secret"].as_str().unwrap();
    assert!(new_secret.starts_with("whsec_") && new_secret != secret);

    app.delete(&format!("{BASE}/{id}"), &t.token).await.expect(204);
    app.get(&format!("{BASE}/{id}"), &t.token).await.problem(404, "not_found");
    app.delete(&format!("{BASE}/{id}"), &t.token).await.problem(404, "not_found");
}

#[actix_web::test]
async fn invalid_fields_and_private_urls_are_refused() {
    let app = spawn_app_with(|s| s.allow_private_urls = false).await;
    let t = app.signup("strict").await;
    let cases = [
        (json!({"url": "https://example.com/in", "event_types": []}), "event_types", "invalid_choice"),
        (json!({"url": "https://example.com/in", "event_types": ["message.nope"]}), "event_types", "invalid_choice"),
        (json!({"url": "", "event_types": ["message.status"]}), "url", "length"),
        (json!({"url": "ftp://example.com/in", "event_types": ["message.status"]}), "url", "invalid_url"),
        (json!({"url": "http://example.com/in", "event_types": ["message.status"]}), "url", "https_required"),
        (json!({"url": "https://127.0.0.1/in", "event_types": ["message.status"]}), "url", "url_not_allowed"),
        (json!({"url": "https://10.0.0.8/in", "event_types": ["message.status"]}), "url", "url_not_allowed"),
        (json!({"url": "https://169.254.169.254/latest", "event_types": ["message.status"]}), "url", "url_not_allowed"),
        (json!({"url": "https://[::1]/in", "event_types": ["message.status"]}), "url", "url_not_allowed"),
    ];
    for (body, field, code) in cases {
        let p = app.post(BASE, &t.token, body.clone()).await.problem(422, "validation_failed");
        assert_eq!(p["errors"][field], json!([code]), "{body}: {p}");
    }
    let p = app
        .post(BASE, &t.token, json!({"url": "https://example.com", "event_types": ["message.status"], "x": 1}))
        .await
        .problem(422, "validation_failed");
    assert_eq!(p["errors"]["x"], json!(["unknown_field"]));
    assert_eq!(app.get(BASE, &t.token).await.expect(200)["data"], json!([]));

    let member = json!({"email": "m@example.com", "name": "M", "role": "member", "password": "memberpass"});
    app.post("/api/v1/users", &t.token, member).await.expect(201);
    let m = app.login("m@example.com", "memberpass").await;
    let body = json!({"url": "https://example.com/in", "event_types": ["message.status"]});
    assert_eq!(app.post(BASE, &m, body).await.status, 403);
    app.get(BASE, &m).await.expect(200);
}

#[actix_web::test]
async fn a_failing_receiver_gets_the_same_signed_event_until_it_accepts() {
    let app = relay_app().await;
    let t = app.signup("retry").await;
    let fake = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(500)).up_to_n_times(2).mount(&fake).await;
    Mock::given(method("POST")).and(path("/in")).respond_with(ResponseTemplate::new(204)).mount(&fake).await;
    let created = create(&app, &t.token, &format!("{}/in", fake.uri()), &["message.status"]).await;
    let (id, secret) = (created["id"].as_i64().unwrap(), created["secret"].as_str().unwrap());

    let queued = app.post(&format!("{BASE}/{id}/test"), &t.token, json!({})).await.expect(202);
    assert_eq!(queued["event_type"], "ping");
    let delivered = delivery_with(&app, &t.token, id, "delivered").await;
    let requests = received(&fake, 3).await;
    assert_eq!(requests.len(), 3);
    let ids: HashSet<String> = requests.iter().map(|r| verify(r, secret)).collect();
    assert_eq!(ids, HashSet::from([queued["event_id"].as_str().unwrap().to_string()]));
    let body: Value = serde_json::from_slice(&requests[0].body).unwrap();
    assert_eq!(body["tenant_id"], t.id);
    assert_eq!(body["data"]["endpoint_id"], id);

    assert_eq!(delivered["attempts"], 3);
    let codes: Vec<&Value> = delivered["attempt_log"].as_array().unwrap().iter().map(|a| &a["status_code"]).collect();
    assert_eq!(codes, [&json!(500), &json!(500), &json!(204)]);
    assert!(delivered["delivered_at"].is_string());
    assert!(delivered["attempt_log"][0]["error"].as_str().unwrap().contains("500"));
    let failed = app.get(&format!("{BASE}/{id}/deliveries?status=failed"), &t.token).await.expect(200);
    assert_eq!(failed["data"], json!([]));
    app.get(&format!("{BASE}/{id}/deliveries?status=nope"), &t.token).await.problem(422, "validation_failed");
}

#[actix_web::test]
async fn a_sandbox_send_relays_each_status_to_subscribed_endpoints_only() {
    let app = relay_app().await;
    let t = app.signup("statuses").await;
    let fake = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)).mount(&fake).await;
    let subscribed = create(&app, &t.token, &format!("{}/status", fake.uri()), &["message.status"]).await;
    create(&app, &t.token, &format!("{}/templates", fake.uri()), &["template.updated"]).await;
    let (account, _) = sandbox_account(&app, &t.token).await;
    crate::inbox::sandbox_inbound(&app, &t.token, account, "+919876543210").await;

    let body = json!({"account_id": account, "to": "+919876543210", "message": {"type": "text", "body": "hi"}});
    let message = app.post("/api/v1/messages", &t.token, body).await.expect(202);
    let message_id = message["id"].as_i64().unwrap();
    settle(&app, &t.token, message_id).await;

    received(&fake, 3).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let requests = fake.received_requests().await.unwrap();
    let secret = subscribed["secret"].as_str().unwrap();
    let mut statuses = HashSet::new();
    let mut ids = HashSet::new();
    for r in &requests {
        assert_eq!(r.url.path(), "/status", "an endpoint not subscribed to message.status got an event");
        ids.insert(verify(r, secret));
        let event: Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(event["type"], "message.status");
        assert_eq!(event["data"]["message_id"], message_id);
        statuses.insert(event["data"]["status"].as_str().unwrap().to_string());
    }
    assert_eq!(requests.len(), 3, "exactly sent, delivered and read");
    assert_eq!(statuses, HashSet::from(["sent".into(), "delivered".into(), "read".into()]));
    assert_eq!(ids.len(), 3, "each status is its own event");
}

#[actix_web::test]
async fn a_failed_send_relays_its_error() {
    let app = relay_app().await;
    let t = app.signup("failures").await;
    let fake = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)).mount(&fake).await;
    create(&app, &t.token, &format!("{}/in", fake.uri()), &["message.status"]).await;
    let (account, _) = sandbox_account(&app, &t.token).await;
    crate::inbox::sandbox_inbound(&app, &t.token, account, "+14155550000").await;
    let body = json!({"to": "+14155550000", "message": {"type": "text", "body": "hi"}});
    app.post(&format!("/api/v1/accounts/{account}/send_message?wait=true"), &t.token, body).await.expect(201);
    let event: Value = serde_json::from_slice(&received(&fake, 1).await[0].body).unwrap();
    assert_eq!(event["data"]["status"], "failed");
    assert_eq!(event["data"]["error"]["code"], "131026");
}

#[actix_web::test]
async fn replay_sends_the_same_event_again() {
    let app = relay_app().await;
    let t = app.signup("replay").await;
    let fake = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)).mount(&fake).await;
    let created = create(&app, &t.token, &format!("{}/in", fake.uri()), &["message.status"]).await;
    let id = created["id"].as_i64().unwrap();
    app.post(&format!("{BASE}/{id}/test"), &t.token, json!({})).await.expect(202);
    let first = delivery_with(&app, &t.token, id, "delivered").await;

    let replayed =
        app.post(&format!("{BASE}/{id}/deliveries/{}/replay", first["id"]), &t.token, json!({})).await.expect(202);
    assert_eq!(replayed["status"], "pending");
    assert_eq!(replayed["event_id"], first["event_id"]);
    let requests = received(&fake, 2).await;
    let secret = created["secret"].as_str().unwrap();
    assert_eq!(verify(&requests[0], secret), verify(&requests[1], secret));
    assert_eq!(requests[0].body, requests[1].body, "a replay sends the same event");
    let again = delivery_with(&app, &t.token, id, "delivered").await;
    assert_eq!(again["attempt_log"].as_array().unwrap().len(), 2);
    app.post(&format!("{BASE}/{id}/deliveries/999999/replay"), &t.token, json!({})).await.problem(404, "not_found");
}

#[actix_web::test]
async fn retries_end_failed_when_the_window_closes() {
    let app = spawn_app_with(|s| {
        s.allow_private_urls = true;
        s.relay_retry_window_secs = 1;
    })
    .await;
    let t = app.signup("expiry").await;
    let fake = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(503)).mount(&fake).await;
    let created = create(&app, &t.token, &format!("{}/in", fake.uri()), &["message.status"]).await;
    let id = created["id"].as_i64().unwrap();
    app.post(&format!("{BASE}/{id}/test"), &t.token, json!({})).await.expect(202);
    let failed = delivery_with(&app, &t.token, id, "failed").await;
    let attempts = failed["attempt_log"].as_array().unwrap();
    assert!(!attempts.is_empty());
    assert_eq!(failed["attempts"], attempts.len());
    assert_eq!(failed["last_status_code"], 503);
    assert!(failed["next_attempt_at"].is_null());
    let n = fake.received_requests().await.unwrap().len();
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(fake.received_requests().await.unwrap().len(), n, "a failed delivery is not retried");
}

#[actix_web::test]
async fn another_tenant_gets_404_for_every_endpoint_route() {
    let app = relay_app().await;
    let a = app.signup("owner-a").await;
    let b = app.signup("owner-b").await;
    let fake = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)).mount(&fake).await;
    let created = create(&app, &a.token, &format!("{}/in", fake.uri()), &["message.status"]).await;
    let id = created["id"].as_i64().unwrap();
    app.post(&format!("{BASE}/{id}/test"), &a.token, json!({})).await.expect(202);
    let delivery = delivery_with(&app, &a.token, id, "delivered").await;

    let e = format!("{BASE}/{id}");
    app.get(&e, &b.token).await.problem(404, "not_found");
    app.patch(&e, &b.token, json!({"active": false})).await.problem(404, "not_found");
    app.post(&format!("{e}/rotate-secret"), &b.token, json!({})).await.problem(404, "not_found");
    app.get(&format!("{e}/deliveries"), &b.token).await.problem(404, "not_found");
    app.post(&format!("{e}/deliveries/{}/replay", delivery["id"]), &b.token, json!({})).await.problem(404, "not_found");
    app.post(&format!("{e}/test"), &b.token, json!({})).await.problem(404, "not_found");
    app.delete(&e, &b.token).await.problem(404, "not_found");
    assert_eq!(app.get(BASE, &b.token).await.expect(200)["data"], json!([]));
    assert_eq!(app.get(&e, &a.token).await.expect(200)["active"], true);
    assert_eq!(received(&fake, 1).await.len(), 1);
}

#[actix_web::test]
async fn rotate_keys_re_encrypts_endpoint_secrets() {
    let app = relay_app().await;
    let t = app.signup("keys").await;
    let created = create(&app, &t.token, "http://127.0.0.1:9/in", &["message.status"]).await;
    let id = created["id"].as_i64().unwrap();
    let stored = |db: wabahub::db::Db| {
        actix_web::web::block(move || {
            let c = &mut db.get().unwrap();
            wabahub::store::webhook_endpoints::endpoints_by_id(c, &[id]).unwrap().remove(0).secret_enc
        })
    };
    let before = stored(app.state.db.clone()).await.unwrap();
    let mut settings = (*app.state.settings).clone();
    settings.fernet_keys.insert(0, fernet::Fernet::generate_key());
    let (s, db) = (settings.clone(), app.state.db.clone());
    let n = actix_web::web::block(move || wabahub::cli::rotate_keys(&s, &db).unwrap()).await.unwrap();
    assert_eq!(n, 1);
    let after = stored(app.state.db.clone()).await.unwrap();
    assert_ne!(before, after);
    let newest = wabahub::crypto::Vault::new(&settings.fernet_keys[..1]).unwrap();
    assert_eq!(newest.decrypt(&after).unwrap(), created["secret"].as_str().unwrap());
}

#[actix_web::test]
async fn inbound_messages_and_template_updates_are_relayed() {
    let app = relay_app().await;
    let t = app.signup("ann").await;
    let (account, _) = sandbox_account(&app, &t.token).await;
    let fake = MockServer::start().await;
    Mock::given(method("POST")).and(path("/in")).respond_with(ResponseTemplate::new(204)).mount(&fake).await;
    let endpoint =
        create(&app, &t.token, &format!("{}/in", fake.uri()), &["message.inbound", "template.updated"]).await;
    let secret = endpoint["secret"].as_str().unwrap().to_string();
    let tpl = app
        .post(&format!("/api/v1/accounts/{account}/templates"), &t.token, crate::templates::order_update())
        .await
        .expect(201);
    let body = json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [
        {"field": "messages", "value": {"messaging_product": "whatsapp", "metadata": {"phone_number_id": "x"},
            "messages": [{"from": "919876543210", "id": "wamid.IN1", "timestamp": "1700000000", "type": "text", "text": {"body": "hello"}}]}},
        {"field": "message_template_status_update", "value": {"event": "APPROVED", "message_template_name": "order_update", "message_template_language": "en_US"}}
    ]}]});
    let acc = app.get(&format!("/api/v1/accounts/{account}"), &t.token).await.expect(200);
    let path = crate::webhooks::path_of(acc["webhook_url"].as_str().unwrap());
    crate::webhooks::deliver_signed(&app, path, wabahub::providers::sandbox::SANDBOX_APP_SECRET, &body).await;
    let got = received(&fake, 2).await;
    let mut types = Vec::new();
    for req in &got {
        verify(req, &secret);
        let event: Value = serde_json::from_slice(&req.body).unwrap();
        types.push(event["type"].as_str().unwrap().to_string());
        match event["type"].as_str().unwrap() {
            "message.inbound" => {
                assert_eq!(event["data"]["from"], "+919876543210");
                assert_eq!(event["data"]["message"]["text"]["body"], "hello");
            }
            "template.updated" => {
                assert_eq!(event["data"]["template_id"], tpl["id"]);
                assert_eq!(event["data"]["status"], "APPROVED");
            }
            other => panic!("unexpected event {other}"),
        }
    }
    types.sort();
    assert_eq!(types, ["message.inbound", "template.updated"]);
}
