//! Inbound webhooks: the handshake, signatures over the raw body, durable and deduplicated
//! storage, change-by-change application, the platform endpoint and the events API.

use std::time::Duration;

use diesel::RunQueryDsl;
use futures_util::StreamExt;
use serde_json::{Value, json};
use wabahub::providers::meta::signature::sign;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::*;
use crate::setup::full_meta_setup;

pub const APP_SECRET: &str = "app-secret-123456";
const PLATFORM_SECRET: &str = "platform-app-secret";
const PHONE_ID: &str = "106540352242922";

/// An app with a fake Graph API and a Meta account; returns (app, fake, tenant, account id, webhook path).
pub async fn meta_app() -> (TestApp, MockServer, Tenant, i64, String) {
    let fake = MockServer::start().await;
    let uri = fake.uri();
    let app = spawn_app_with(|s| {
        s.meta_graph_url = uri;
        s.meta_app_secret = Some(PLATFORM_SECRET.into());
        s.meta_verify_token = Some("platform-verify".into());
    })
    .await;
    let t = app.signup("ann").await;
    let (account, path) = meta_account(&app, &t, "+14155550100", PHONE_ID).await;
    (app, fake, t, account, path)
}

/// A Meta account with one number; returns (account id, webhook path).
async fn meta_account(app: &TestApp, t: &Tenant, phone: &str, phone_id: &str) -> (i64, String) {
    let res = app.post("/api/v1/accounts/setup", &t.token, full_meta_setup("Meta", phone, phone_id)).await.expect(201);
    let url = res["account"]["webhook_url"].as_str().unwrap();
    (res["account"]["id"].as_i64().unwrap(), path_of(url).to_string())
}

fn signature(secret: &str, body: &str) -> String {
    format!("sha256={}", hex::encode(sign(secret, body.as_bytes())))
}

/// POSTs a raw body with an optional `X-Hub-Signature-256`.
async fn deliver(app: &TestApp, path: &str, body: &str, sig: Option<String>) -> Res {
    let mut req = app.client.post(app.url(path)).header("content-type", "application/json").body(body.to_string());
    if let Some(s) = sig {
        req = req.header("x-hub-signature-256", s);
    }
    TestApp::read(req.send().await.unwrap()).await
}

/// The path of an account's webhook URL (the part the test server serves).
pub fn path_of(webhook_url: &str) -> &str {
    &webhook_url[webhook_url.find("/webhooks/").unwrap()..]
}

/// POSTs a JSON body to `url` with its `X-Hub-Signature-256` under `secret`.
pub async fn post_signed(client: &reqwest::Client, url: &str, secret: &str, body: &str) -> reqwest::Response {
    client
        .post(url)
        .header("x-hub-signature-256", signature(secret, body))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap()
}

/// Delivers a body signed with `secret` and expects 200.
pub async fn deliver_signed(app: &TestApp, path: &str, secret: &str, body: &Value) {
    let text = body.to_string();
    deliver(app, path, &text, Some(signature(secret, &text))).await.expect(200);
}

/// Waits until every stored event of the tenant has been applied.
pub async fn drained(app: &TestApp, token: &str) {
    for _ in 0..200 {
        let page = app.get("/api/v1/webhook-events?processed=false", token).await.expect(200);
        if page["data"].as_array().unwrap().is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("webhook events were not processed");
}

async fn events(app: &TestApp, token: &str) -> Vec<Value> {
    app.get("/api/v1/webhook-events", token).await.expect(200)["data"].as_array().unwrap().clone()
}

/// Two listed deliveries of one body (newest first): the first applied, the second settled as its
/// redelivery.
fn delivered_twice_applied_once(listed: &[Value]) {
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert_eq!(listed[0]["payload"], listed[1]["payload"]);
    assert!(listed[1]["duplicate_of"].is_null(), "{listed:?}");
    assert_eq!(listed[0]["duplicate_of"], listed[1]["id"], "{listed:?}");
    assert!(listed[0]["processed_at"].is_string(), "{listed:?}");
}

pub fn envelope(changes: Vec<Value>) -> Value {
    json!({"object": "whatsapp_business_account", "entry": [{"id": "2222", "changes": changes}]})
}

fn messages_change(phone_id: &str, key: &str, items: Value) -> Value {
    json!({"field": "messages", "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "14155550100", "phone_number_id": phone_id},
        key: items,
    }})
}

fn status(wamid: &str, status: &str, ts: i64) -> Value {
    json!({"id": wamid, "status": status, "timestamp": ts.to_string(), "recipient_id": "919876543210"})
}

/// An approved `hello_world` template without parameters on the account (a business-initiated
/// message needs no customer-service window).
async fn hello_world(app: &TestApp, t: &Tenant, account: i64) {
    let (tenant, db) = (t.id, app.state.db.clone());
    actix_web::web::block(move || {
        let c = &mut db.get().unwrap();
        if wabahub::store::templates::by_name(c, account, "hello_world", "en_US").unwrap().is_some() {
            return;
        }
        let now = wabahub::db::now();
        let new = wabahub::store::templates::NewTemplate {
            tenant_id: tenant,
            account_id: account,
            name: "hello_world".into(),
            language: "en_US".into(),
            category: "UTILITY".into(),
            status: "APPROVED".into(),
            provider_template_id: Some("555".into()),
            components: json!([{"type": "BODY", "text": "Hello"}]).to_string(),
            parameter_format: "POSITIONAL".into(),
            synced_at: None,
            created_at: now,
            updated_at: now,
        };
        wabahub::store::templates::insert(c, new).unwrap();
    })
    .await
    .unwrap();
}

/// Sends a template through the fake Graph API; returns our message id.
async fn sent_message(app: &TestApp, fake: &MockServer, t: &Tenant, account: i64, wamid: &str) -> i64 {
    hello_world(app, t, account).await;
    let reply = json!({"messaging_product": "whatsapp", "contacts": [{"input": "919876543210", "wa_id": "919876543210"}], "messages": [{"id": wamid}]});
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(reply))
        .up_to_n_times(1)
        .mount(fake)
        .await;
    let body =
        json!({"to": "+919876543210", "message": {"type": "template", "name": "hello_world", "language": "en_US"}});
    let m = app.post(&format!("/api/v1/accounts/{account}/send_message?wait=true"), &t.token, body).await.expect(201);
    assert_eq!(m["provider_message_id"], wamid);
    m["id"].as_i64().unwrap()
}

async fn message(app: &TestApp, t: &Tenant, id: i64) -> Value {
    app.get(&format!("/api/v1/messages/{id}"), &t.token).await.expect(200)
}

/// Runs SQL against the test database (to set up states the API cannot reach).
async fn sql(app: &TestApp, q: &str) {
    let (url, q) = (app.database_url.clone(), q.to_string());
    actix_web::web::block(move || diesel::sql_query(q).execute(&mut wabahub::db::connect(&url).unwrap()).unwrap())
        .await
        .unwrap();
}

#[actix_web::test]
async fn handshake_echoes_the_challenge_only_for_the_right_token() {
    let (app, _fake, _t, _, path) = meta_app().await;
    let ok = app
        .client
        .get(app.url(&format!("{path}?hub.mode=subscribe&hub.verify_token=my-verify-token&hub.challenge=1158201444")));
    let res = TestApp::read(ok.send().await.unwrap()).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.text, "1158201444");
    assert!(res.headers["content-type"].to_str().unwrap().starts_with("text/plain"));
    for q in [
        "hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1",
        "hub.mode=unsubscribe&hub.verify_token=my-verify-token&hub.challenge=1",
        "hub.challenge=1",
    ] {
        let res = TestApp::read(app.client.get(app.url(&format!("{path}?{q}"))).send().await.unwrap()).await;
        res.problem(403, "verification_failed");
    }
    let res =
        TestApp::read(app.client.get(app.url("/webhooks/meta/nope?hub.mode=subscribe")).send().await.unwrap()).await;
    res.problem(404, "not_found");
    let platform =
        app.client.get(app.url("/webhooks/meta?hub.mode=subscribe&hub.verify_token=platform-verify&hub.challenge=77"));
    assert_eq!(TestApp::read(platform.send().await.unwrap()).await.text, "77");
}

#[actix_web::test]
async fn bad_or_missing_signatures_and_malformed_bodies_store_nothing() {
    let (app, _fake, t, _, path) = meta_app().await;
    let body = envelope(vec![messages_change(PHONE_ID, "statuses", json!([status("wamid.X", "sent", 1)]))]).to_string();
    deliver(&app, &path, &body, None).await.problem(401, "invalid_signature");
    deliver(&app, &path, &body, Some(signature("wrong-secret", &body))).await.problem(401, "invalid_signature");
    deliver(&app, &path, &body, Some(signature(APP_SECRET, &format!("{body} "))))
        .await
        .problem(401, "invalid_signature");
    deliver(&app, &path, &body, Some("sha256=zz".into())).await.problem(401, "invalid_signature");
    deliver(&app, "/webhooks/meta/unknown-key", &body, Some(signature(APP_SECRET, &body)))
        .await
        .problem(404, "not_found");
    let malformed = "{\"object\": \"whatsapp_business_account\", ";
    deliver(&app, &path, malformed, Some(signature(APP_SECRET, malformed))).await.problem(400, "malformed_json");
    assert!(events(&app, &t.token).await.is_empty());
    deliver(&app, &path, &body, Some(signature(APP_SECRET, &body))).await.expect(200);
    assert_eq!(events(&app, &t.token).await.len(), 1);
}

#[actix_web::test]
async fn another_accounts_secret_is_refused() {
    let (app, _fake, t, _, path) = meta_app().await;
    let mut other = full_meta_setup("Other", "+14155550122", "3000");
    other["access_tokens"]["app_secret"] = json!("another-app-secret");
    app.post("/api/v1/accounts/setup", &t.token, other).await.expect(201);
    let body = envelope(vec![]).to_string();
    deliver(&app, &path, &body, Some(signature("another-app-secret", &body))).await.problem(401, "invalid_signature");
    assert!(events(&app, &t.token).await.is_empty());
}

#[actix_web::test]
async fn statuses_move_forward_whatever_order_and_duplicates_change_nothing() {
    let (app, fake, t, account, path) = meta_app().await;
    let id = sent_message(&app, &fake, &t, account, "wamid.A").await;
    let read = envelope(vec![messages_change(PHONE_ID, "statuses", json!([status("wamid.A", "read", 1_700_000_200)]))]);
    let delivered =
        envelope(vec![messages_change(PHONE_ID, "statuses", json!([status("wamid.A", "delivered", 1_700_000_100)]))]);
    deliver_signed(&app, &path, APP_SECRET, &read).await;
    drained(&app, &t.token).await;
    deliver_signed(&app, &path, APP_SECRET, &delivered).await;
    drained(&app, &t.token).await;
    let m = message(&app, &t, id).await;
    assert_eq!(m["status"], "read", "{m}");
    assert_eq!(m["delivered_at"], "2023-11-14T22:15:00Z");
    assert_eq!(m["read_at"], "2023-11-14T22:16:40Z");
    let history = m["history"].as_array().unwrap().len();
    deliver_signed(&app, &path, APP_SECRET, &read).await;
    deliver_signed(&app, &path, APP_SECRET, &delivered).await;
    drained(&app, &t.token).await;
    let listed = events(&app, &t.token).await;
    assert_eq!(listed.len(), 4, "a redelivered body is stored as it arrived");
    let (firsts, redeliveries) = (&listed[2..], &listed[..2]);
    assert!(firsts.iter().all(|e| e["duplicate_of"].is_null()), "{listed:?}");
    for (again, first) in redeliveries.iter().rev().zip(firsts.iter().rev()) {
        assert_eq!(again["duplicate_of"], first["id"], "{listed:?}");
        assert!(again["processed_at"].is_string(), "a redelivery is settled: {again}");
    }
    let again = message(&app, &t, id).await;
    assert_eq!(again["history"].as_array().unwrap().len(), history);
    let usage = format!("/api/v1/accounts/{account}/usage?from=2023-11-14&to=2023-11-14");
    let usage = app.get(&usage, &t.token).await.expect(200);
    assert_eq!(usage["total"]["delivered"], 1, "{usage}");
    assert_eq!(usage["total"]["read"], 1, "{usage}");
}

#[actix_web::test]
async fn failed_keeps_code_and_title_and_unknown_fields_are_ignored() {
    let (app, fake, t, account, path) = meta_app().await;
    let id = sent_message(&app, &fake, &t, account, "wamid.F").await;
    let mut failed = status("wamid.F", "failed", 1_700_000_000);
    failed["errors"] = json!([{"code": 131026, "title": "Message undeliverable", "message": "Message undeliverable", "error_data": {"details": "Unable to deliver"}, "href": "https://developers.facebook.com"}]);
    failed["future_field"] = json!({"nested": [1, 2]});
    failed["recipient_user_id"] = json!("US.123");
    let mut change = messages_change(PHONE_ID, "statuses", json!([failed]));
    change["value"]["brand_new"] = json!(true);
    deliver_signed(&app, &path, APP_SECRET, &envelope(vec![change])).await;
    drained(&app, &t.token).await;
    let m = message(&app, &t, id).await;
    assert_eq!(m["status"], "failed", "{m}");
    assert_eq!(m["error"]["code"], "131026");
    assert_eq!(m["error"]["title"], "Message undeliverable");
    assert_eq!(m["error"]["detail"], "Unable to deliver");
    assert!(events(&app, &t.token).await[0]["process_error"].is_null());
}

#[actix_web::test]
async fn callback_data_reconciles_an_unknown_message() {
    let (app, fake, t, account, path) = meta_app().await;
    let id = sent_message(&app, &fake, &t, account, "wamid.LOST").await;
    sql(&app, &format!("UPDATE messages SET status = 'unknown', provider_message_id = NULL WHERE id = {id}")).await;
    let mut s = status("wamid.FOUND", "delivered", 1_700_000_000);
    s["biz_opaque_callback_data"] = json!(id.to_string());
    deliver_signed(&app, &path, APP_SECRET, &envelope(vec![messages_change(PHONE_ID, "statuses", json!([s]))])).await;
    drained(&app, &t.token).await;
    let m = message(&app, &t, id).await;
    assert_eq!(m["status"], "delivered", "{m}");
    assert_eq!(m["provider_message_id"], "wamid.FOUND");
}

#[actix_web::test]
async fn every_entry_and_change_is_applied_and_one_bad_change_does_not_stop_the_rest() {
    let (app, fake, t, account, path) = meta_app().await;
    let a = sent_message(&app, &fake, &t, account, "wamid.M1").await;
    let b = sent_message(&app, &fake, &t, account, "wamid.M2").await;
    let inbound = json!([{"from": "919876543210", "id": "wamid.IN1", "timestamp": "1700000000", "type": "text", "text": {"body": "hi"}}]);
    let body = json!({"object": "whatsapp_business_account", "entry": [
        {"id": "2222", "changes": [
            messages_change(PHONE_ID, "statuses", json!([{"status": "read"}])),
            messages_change(PHONE_ID, "statuses", json!([status("wamid.M1", "delivered", 1_700_000_000)])),
        ]},
        {"id": "2222", "changes": [
            messages_change(PHONE_ID, "statuses", json!([status("wamid.M2", "read", 1_700_000_000)])),
            messages_change(PHONE_ID, "messages", inbound),
        ]},
    ]});
    deliver_signed(&app, &path, APP_SECRET, &body).await;
    drained(&app, &t.token).await;
    assert_eq!(message(&app, &t, a).await["status"], "delivered");
    assert_eq!(message(&app, &t, b).await["status"], "read");
    let inbox = app.get("/api/v1/messages?direction=inbound", &t.token).await.expect(200);
    assert_eq!(inbox["data"].as_array().unwrap().len(), 1);
    let e = &events(&app, &t.token).await[0];
    assert!(e["process_error"].as_str().unwrap().contains("entry[0].changes[0]"), "{e}");
    assert_eq!(e["kind"], "messages");
}

#[actix_web::test]
async fn inbound_messages_are_stored_once_and_counted() {
    let (app, _fake, t, account, path) = meta_app().await;
    let items = json!([
        {"from": "919876543210", "id": "wamid.T", "timestamp": "1700000000", "type": "text", "text": {"body": "hello"}},
        {"from": "919876543210", "id": "wamid.I", "timestamp": "1700000001", "type": "image", "image": {"id": "MEDIA1", "mime_type": "image/jpeg", "sha256": "x"}},
        {"from": "919876543210", "id": "wamid.B", "timestamp": "1700000002", "type": "interactive", "interactive": {"type": "button_reply", "button_reply": {"id": "yes", "title": "Yes"}}},
    ]);
    let mut change = messages_change(PHONE_ID, "messages", items);
    change["value"]["contacts"] = json!([{"profile": {"name": "Sheena"}, "wa_id": "919876543210", "user_id": "US.1"}]);
    deliver_signed(&app, &path, APP_SECRET, &envelope(vec![change.clone()])).await;
    drained(&app, &t.token).await;
    let mut again = envelope(vec![change]);
    again["entry"][0]["time"] = json!(1_700_000_999);
    deliver_signed(&app, &path, APP_SECRET, &again).await;
    drained(&app, &t.token).await;
    assert_eq!(events(&app, &t.token).await.len(), 2);
    let inbox = app.get("/api/v1/messages?direction=inbound", &t.token).await.expect(200);
    let rows = inbox["data"].as_array().unwrap();
    assert_eq!(rows.len(), 3, "{inbox}");
    let text = rows.iter().find(|m| m["provider_message_id"] == "wamid.T").unwrap();
    assert_eq!(text["status"], "received");
    assert_eq!(text["recipient"], "+919876543210");
    let usage = format!("/api/v1/accounts/{account}/usage?from=2023-11-14&to=2023-11-14");
    let usage = app.get(&usage, &t.token).await.expect(200);
    assert_eq!(usage["total"]["inbound"], 3, "{usage}");
}

#[actix_web::test]
async fn template_updates_change_the_template_and_a_paused_one_cannot_be_sent() {
    let (app, _fake, t, account, path) = meta_app().await;
    let (tenant, db) = (t.id, app.state.db.clone());
    let tpl = actix_web::web::block(move || {
        let now = wabahub::db::now();
        wabahub::store::templates::insert(
            &mut db.get().unwrap(),
            wabahub::store::templates::NewTemplate {
                tenant_id: tenant,
                account_id: account,
                name: "order_update".into(),
                language: "en_US".into(),
                category: "UTILITY".into(),
                status: "APPROVED".into(),
                provider_template_id: Some("987654".into()),
                components: json!([{"type": "BODY", "text": "Hi"}]).to_string(),
                parameter_format: "POSITIONAL".into(),
                synced_at: None,
                created_at: now,
                updated_at: now,
            },
        )
        .unwrap()
        .id
    })
    .await
    .unwrap();
    let changes = vec![
        json!({"field": "template_category_update", "value": {"message_template_id": 987654, "message_template_name": "order_update", "message_template_language": "en_US", "previous_category": "UTILITY", "new_category": "MARKETING"}}),
        json!({"field": "message_template_quality_update", "value": {"previous_quality_score": "GREEN", "new_quality_score": "YELLOW", "message_template_id": 987654, "message_template_name": "order_update", "message_template_language": "en_US"}}),
        json!({"field": "message_template_status_update", "value": {"event": "PAUSED", "message_template_id": 987654, "message_template_name": "order_update", "message_template_language": "en_US", "reason": "NONE", "other_info": {"title": "FIRST_PAUSE", "description": "paused"}}}),
    ];
    deliver_signed(&app, &path, APP_SECRET, &envelope(changes)).await;
    drained(&app, &t.token).await;
    let row = app.get(&format!("/api/v1/accounts/{account}/templates/{tpl}"), &t.token).await.expect(200);
    assert_eq!(row["status"], "PAUSED", "{row}");
    assert_eq!(row["category"], "MARKETING");
    assert_eq!(row["previous_category"], "UTILITY");
    assert_eq!(row["quality_score"], "YELLOW");
    let send =
        json!({"to": "+919876543210", "message": {"type": "template", "name": "order_update", "language": "en_US"}});
    app.post(&format!("/api/v1/accounts/{account}/send_message"), &t.token, send)
        .await
        .problem(422, "template_not_ready");
    let rejected = json!({"field": "message_template_status_update", "value": {"event": "REJECTED", "message_template_id": "987654", "message_template_name": "order_update", "message_template_language": "en_US", "reason": "INVALID_FORMAT"}});
    deliver_signed(&app, &path, APP_SECRET, &envelope(vec![rejected])).await;
    drained(&app, &t.token).await;
    let row = app.get(&format!("/api/v1/accounts/{account}/templates/{tpl}"), &t.token).await.expect(200);
    assert_eq!(row["status"], "REJECTED");
    assert_eq!(row["rejection_reason"], "INVALID_FORMAT");
}

#[actix_web::test]
async fn quality_red_pauses_the_number_and_account_updates_are_logged() {
    let (app, _fake, t, account, path) = meta_app().await;
    let red = json!({"field": "phone_number_quality_update", "value": {"display_phone_number": "1 415-555-0100", "event": "FLAGGED", "current_limit": "TIER_1K"}});
    deliver_signed(&app, &path, APP_SECRET, &envelope(vec![red])).await;
    drained(&app, &t.token).await;
    let numbers = app.get(&format!("/api/v1/accounts/{account}/phone-numbers"), &t.token).await.expect(200);
    assert_eq!(numbers["data"][0]["quality_rating"], "RED", "{:?}", events(&app, &t.token).await);
    let send = json!({"to": "+919876543210", "message": {"type": "text", "body": "hello"}});
    app.post(&format!("/api/v1/accounts/{account}/send_message"), &t.token, send)
        .await
        .problem(409, "ERR_QUALITY_DEGRADED");
    let logs = app.get(&format!("/api/v1/accounts/{account}/health-logs"), &t.token).await.expect(200);
    assert!(logs.to_string().contains("RED"), "{logs}");
    let disabled = json!({"field": "account_update", "value": {"event": "DISABLED_UPDATE", "ban_info": {"waba_ban_state": "DISABLE", "waba_ban_date": "2026-11-23"}}});
    deliver_signed(&app, &path, APP_SECRET, &envelope(vec![disabled])).await;
    drained(&app, &t.token).await;
    let a = app.get(&format!("/api/v1/accounts/{account}"), &t.token).await.expect(200);
    assert_eq!(a["status"], "suspended", "{a}");
}

#[actix_web::test]
async fn platform_endpoint_routes_by_number_and_quarantines_unknown_numbers() {
    let (app, fake, t, account, _) = meta_app().await;
    let other = app.signup("bob").await;
    let (bob_account, _) = meta_account(&app, &other, "+14155550111", "555000").await;
    let id = sent_message(&app, &fake, &t, account, "wamid.P").await;
    let body = json!({"object": "whatsapp_business_account", "entry": [{"id": "2222", "changes": [
        messages_change(PHONE_ID, "statuses", json!([status("wamid.P", "delivered", 1_700_000_000)])),
        messages_change("555000", "messages", json!([{"from": "15550001111", "id": "wamid.BOB", "timestamp": "1700000000", "type": "text", "text": {"body": "hey"}}])),
        messages_change("999999", "statuses", json!([status("wamid.P", "read", 1_700_000_100)])),
    ]}]});
    let text = body.to_string();
    deliver(&app, "/webhooks/meta", &text, Some(signature(APP_SECRET, &text))).await.problem(401, "invalid_signature");
    deliver(&app, "/webhooks/meta", &text, Some(signature(PLATFORM_SECRET, &text))).await.expect(200);
    deliver(&app, "/webhooks/meta", &text, Some(signature(PLATFORM_SECRET, &text))).await.expect(200);
    drained(&app, &t.token).await;
    drained(&app, &other.token).await;
    assert_eq!(message(&app, &t, id).await["status"], "delivered", "the quarantined read was not applied");
    let bob_inbox = app.get("/api/v1/messages?direction=inbound", &other.token).await.expect(200);
    assert_eq!(bob_inbox["data"][0]["account_id"], bob_account);
    delivered_twice_applied_once(&events(&app, &t.token).await);
    let bob_events = events(&app, &other.token).await;
    delivered_twice_applied_once(&bob_events);
    assert!(!bob_events[0].to_string().contains("wamid.P"), "a tenant sees only its own changes");
    let root = app.platform_admin().await;
    let quarantined = app.get("/api/v1/admin/webhook-events?quarantined=true", &root).await.expect(200);
    let rows = quarantined["data"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "each delivery is kept: {quarantined}");
    assert!(rows.iter().all(|r| r["tenant_id"].is_null() && r["processed_at"].is_null()));
    assert!(rows[0]["payload"].to_string().contains("999999"));
    app.get("/api/v1/admin/webhook-events", &t.token).await.problem(403, "platform_admin_required");
}

#[actix_web::test]
async fn tata_callbacks_need_the_shared_token() {
    let app = spawn_app().await;
    let t = app.signup("ann").await;
    let mut setup = full_meta_setup("Tata", "+14155550100", PHONE_ID);
    setup["provider"] = json!("tata");
    setup["access_tokens"] = json!({"tata_auth_token": "tata-jwt-123456"});
    let res = app.post("/api/v1/accounts/setup", &t.token, setup).await;
    let account = res.expect(201);
    let url = account["account"]["webhook_url"].as_str().unwrap();
    let path = path_of(url).to_string();
    assert!(path.starts_with("/webhooks/tata/"));
    let body = envelope(vec![messages_change(PHONE_ID, "messages", json!([{"from": "919876543210", "id": "wamid.TATA", "timestamp": "1700000000", "type": "text", "text": {"body": "hi"}}]))]).to_string();
    let post = |token: Option<&str>, query: &str| {
        let mut req = app.client.post(app.url(&format!("{path}{query}"))).body(body.clone());
        if let Some(tk) = token {
            req = req.header("x-wabahub-token", tk);
        }
        req.send()
    };
    TestApp::read(post(None, "").await.unwrap()).await.problem(401, "invalid_token");
    TestApp::read(post(Some("wrong"), "").await.unwrap()).await.problem(401, "invalid_token");
    assert!(events(&app, &t.token).await.is_empty());
    TestApp::read(post(None, "?token=my-verify-token").await.unwrap()).await.expect(200);
    TestApp::read(post(Some("my-verify-token"), "").await.unwrap()).await.expect(200);
    drained(&app, &t.token).await;
    delivered_twice_applied_once(&events(&app, &t.token).await);
    let inbox = app.get("/api/v1/messages?direction=inbound", &t.token).await.expect(200);
    assert_eq!(inbox["data"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn events_are_filtered_reprocessed_and_invisible_to_other_tenants() {
    let (app, fake, t, account, path) = meta_app().await;
    let id = sent_message(&app, &fake, &t, account, "wamid.R").await;
    let template = json!({"field": "message_template_status_update", "value": {"event": "APPROVED", "message_template_id": 1, "message_template_name": "x", "message_template_language": "en", "reason": "NONE"}});
    deliver_signed(&app, &path, APP_SECRET, &envelope(vec![template])).await;
    let delivered =
        envelope(vec![messages_change(PHONE_ID, "statuses", json!([status("wamid.R", "delivered", 1_700_000_000)]))]);
    deliver_signed(&app, &path, APP_SECRET, &delivered).await;
    drained(&app, &t.token).await;
    let all = events(&app, &t.token).await;
    assert_eq!(all.len(), 2);
    assert_eq!(all[0]["payload"], delivered, "the raw payload is returned as JSON");
    assert_eq!(all[0]["signature_valid"], true);
    let by_kind = app.get("/api/v1/webhook-events?kind=message_template_status_update", &t.token).await.expect(200);
    assert_eq!(by_kind["data"].as_array().unwrap().len(), 1);
    let page = app.get(&format!("/api/v1/webhook-events?limit=1&account_id={account}&processed=true"), &t.token).await;
    let page = page.expect(200);
    assert_eq!(page["data"].as_array().unwrap().len(), 1);
    let next = page["next_cursor"].as_str().unwrap();
    let rest = app.get(&format!("/api/v1/webhook-events?limit=1&cursor={next}"), &t.token).await.expect(200);
    assert_eq!(rest["data"][0]["id"], all[1]["id"]);
    let future = app.get("/api/v1/webhook-events?from=2100-01-01T00:00:00Z", &t.token).await.expect(200);
    assert!(future["data"].as_array().unwrap().is_empty());
    let event = all[0]["id"].as_i64().unwrap();
    sql(&app, &format!("UPDATE messages SET status = 'sent', delivered_at = NULL WHERE id = {id}")).await;
    let again = app.post(&format!("/api/v1/webhook-events/{event}/reprocess"), &t.token, json!({})).await.expect(200);
    assert_eq!(again["attempts"], 2);
    assert_eq!(message(&app, &t, id).await["status"], "delivered");
    let other = app.signup("bob").await;
    assert!(events(&app, &other.token).await.is_empty());
    app.post(&format!("/api/v1/webhook-events/{event}/reprocess"), &other.token, json!({}))
        .await
        .problem(404, "not_found");
    app.get(&format!("/api/v1/webhook-events?account_id={account}"), &other.token).await.expect(200);
}

/// An inbound text from `from` to a sandbox account, as Meta would post it.
fn inbound_text(from: &str, id: &str, body: &str) -> Value {
    json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp", "metadata": {"phone_number_id": "none"},
        "messages": [{"from": from, "id": id, "timestamp": chrono::Utc::now().timestamp().to_string(), "type": "text", "text": {"body": body}}]}}]}]})
}

/// The outbound texts the account queued to `to`, oldest first.
async fn replies_to(app: &TestApp, token: &str, to: &str) -> Vec<String> {
    let list = app
        .get(&format!("/api/v1/messages?direction=outbound&recipient={}", to.replace('+', "%2B")), token)
        .await
        .expect(200);
    let mut texts: Vec<String> = list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["message"]["body"].as_str().unwrap_or_default().to_string())
        .collect();
    texts.reverse();
    texts
}

#[actix_web::test]
async fn opt_out_keywords_and_bot_replies() {
    let app = spawn_app().await;
    let t = app.signup("ann").await;
    let (account, _) = crate::messages::sandbox_account(&app, &t.token).await;
    let bot = json!({"bot_settings": {"enable_auto_reply": true, "greeting_message": "Welcome!", "fallback_message": "An agent will reply soon.", "opt_out_keywords": ["band karo"]}});
    let acc = app.patch(&format!("/api/v1/accounts/{account}"), &t.token, bot).await.expect(200);
    let url = acc["webhook_url"].as_str().unwrap();
    let path = path_of(url);
    let secret = wabahub::providers::sandbox::SANDBOX_APP_SECRET;

    deliver_signed(&app, path, secret, &inbound_text("919876543210", "wamid.A1", "hi")).await;
    deliver_signed(&app, path, secret, &inbound_text("919876543210", "wamid.A2", "price?")).await;
    drained(&app, &t.token).await;
    assert_eq!(replies_to(&app, &t.token, "+919876543210").await, ["Welcome!", "An agent will reply soon."]);

    deliver_signed(&app, path, secret, &inbound_text("919876543211", "wamid.B1", "Band Karo")).await;
    deliver_signed(&app, path, secret, &inbound_text("919876543211", "wamid.B2", "STOP")).await;
    deliver_signed(&app, path, secret, &inbound_text("919876543211", "wamid.B3", "hello?")).await;
    drained(&app, &t.token).await;
    let acks = replies_to(&app, &t.token, "+919876543211").await;
    assert_eq!(acks.len(), 1, "acknowledged once, and no bot reply to an opted-out contact: {acks:?}");
    assert!(acks[0].contains("unsubscribed"));
    let body = json!({"to": "+919876543211", "message": {"type": "text", "body": "offer"}});
    app.post(&format!("/api/v1/accounts/{account}/send_message"), &t.token, body)
        .await
        .problem(409, "recipient_opted_out");
}

#[actix_web::test]
async fn conversations_list_contacts_with_their_window() {
    let app = spawn_app().await;
    let t = app.signup("ann").await;
    let (account, _) = crate::messages::sandbox_account(&app, &t.token).await;
    let acc = app.get(&format!("/api/v1/accounts/{account}"), &t.token).await.expect(200);
    let url = acc["webhook_url"].as_str().unwrap();
    let path = path_of(url);
    deliver_signed(
        &app,
        path,
        wabahub::providers::sandbox::SANDBOX_APP_SECRET,
        &inbound_text("919876543210", "wamid.C1", "hi"),
    )
    .await;
    drained(&app, &t.token).await;
    let send = format!("/api/v1/accounts/{account}/send_message");
    let body = json!({"to": "+919876543299", "message": {"type": "text", "body": "hello"}});
    app.post(&send, &t.token, body).await.problem(422, "outside_service_window");
    hello_world(&app, &t, account).await;
    let body =
        json!({"to": "+919876543299", "message": {"type": "template", "name": "hello_world", "language": "en_US"}});
    app.post(&send, &t.token, body).await.expect(202);
    let list = app.get("/api/v1/conversations", &t.token).await.expect(200);
    let data = list["data"].as_array().unwrap();
    assert_eq!(data.len(), 2);
    assert_eq!(data[0]["contact"], "+919876543299");
    assert_eq!(data[0]["service_window_open"], false);
    assert_eq!(data[1]["contact"], "+919876543210");
    assert_eq!(data[1]["service_window_open"], true);
    assert_eq!(data[1]["last_message"]["direction"], "inbound");
    let page = app.get("/api/v1/conversations?limit=1", &t.token).await.expect(200);
    let next = page["next_cursor"].as_str().unwrap();
    let rest = app.get(&format!("/api/v1/conversations?limit=1&cursor={next}"), &t.token).await.expect(200);
    assert_eq!(rest["data"][0]["contact"], "+919876543210");
    let msgs = app.get("/api/v1/conversations/+919876543210/messages", &t.token).await.expect(200);
    assert_eq!(msgs["data"][0]["message"]["text"]["body"], "hi");
    app.get("/api/v1/conversations/12345/messages", &t.token).await.problem(422, "validation_failed");
}

#[actix_web::test]
async fn webhook_bodies_may_be_up_to_three_megabytes() {
    let app = spawn_app().await;
    let t = app.signup("ann").await;
    let (account, _) = crate::messages::sandbox_account(&app, &t.token).await;
    let acc = app.get(&format!("/api/v1/accounts/{account}"), &t.token).await.expect(200);
    let url = acc["webhook_url"].as_str().unwrap();
    let path = path_of(url);
    let secret = wabahub::providers::sandbox::SANDBOX_APP_SECRET;
    let mut big = inbound_text("919876543210", "wamid.BIG", "hi");
    big["padding"] = json!("x".repeat(2 * 1024 * 1024));
    deliver_signed(&app, path, secret, &big).await;
    big["padding"] = json!("x".repeat(3 * 1024 * 1024));
    let text = big.to_string();
    deliver(&app, path, &text, Some(signature(secret, &text))).await.problem(413, "payload_too_large");
}

/// The stored events' (payload, processed, process error), read from the database.
/// Every stored body: (payload, applied or settled, error, first delivery when a redelivery).
async fn stored_events(app: &TestApp) -> Vec<(String, bool, Option<String>, Option<i64>)> {
    use diesel::prelude::*;
    use wabahub::db::schema::webhook_events as e;
    let url = app.database_url.clone();
    actix_web::web::block(move || {
        e::table
            .select((e::payload, e::processed_at.is_not_null(), e::process_error, e::duplicate_of))
            .load(&mut wabahub::db::connect(&url).unwrap())
            .unwrap()
    })
    .await
    .unwrap()
}

#[actix_web::test]
async fn concurrent_deliveries_are_each_stored_and_applied_once() {
    let (app, fake, t, account, path) = meta_app().await;
    let mut ids = Vec::new();
    for m in 0..5 {
        ids.push(sent_message(&app, &fake, &t, account, &format!("wamid.C{m}")).await);
    }
    // 150 distinct bodies, the first 50 of them delivered twice in a row (so a redelivery often
    // shares its original's group commit), 20 requests in flight at a time.
    let steps = ["sent", "delivered", "read"];
    let bodies: Vec<String> = (0..150)
        .map(|i| {
            let s = status(&format!("wamid.C{}", i % 5), steps[i % 3], 1_700_000_000 + i as i64);
            envelope(vec![messages_change(PHONE_ID, "statuses", json!([s]))]).to_string()
        })
        .collect();
    let order: Vec<&String> =
        bodies.iter().enumerate().flat_map(|(i, b)| vec![b; if i < 50 { 2 } else { 1 }]).collect();
    assert_eq!(order.len(), 200);
    let answers: Vec<u16> = futures_util::stream::iter(order.clone())
        .map(|b| deliver(&app, &path, b, Some(signature(APP_SECRET, b))))
        .buffer_unordered(20)
        .map(|res| res.status.as_u16())
        .collect()
        .await;
    assert!(answers.iter().all(|s| *s == 200), "{answers:?}");
    let mut payloads: Vec<String> = stored_events(&app).await.into_iter().map(|e| e.0).collect();
    payloads.sort();
    let mut expected: Vec<String> = order.iter().map(|b| b.to_string()).collect();
    expected.sort();
    assert_eq!(payloads, expected, "every accepted delivery is stored");
    drained(&app, &t.token).await;
    let stored = stored_events(&app).await;
    assert!(stored.iter().all(|(_, processed, error, _)| *processed && error.is_none()), "every event is settled");
    let mut applied: Vec<&String> = stored.iter().filter(|e| e.3.is_none()).map(|e| &e.0).collect();
    applied.sort();
    let mut distinct: Vec<&String> = bodies.iter().collect();
    distinct.sort();
    assert_eq!(applied, distinct, "each body is applied once, its redelivery only recorded");
    for id in ids {
        let m = message(&app, &t, id).await;
        assert_eq!(m["status"], "read", "{m}");
    }
    let usage = format!("/api/v1/accounts/{account}/usage?from=2023-11-14&to=2023-11-14");
    let usage = app.get(&usage, &t.token).await.expect(200);
    assert_eq!(usage["total"]["delivered"], 5, "{usage}");
    assert_eq!(usage["total"]["read"], 5, "{usage}");
}
