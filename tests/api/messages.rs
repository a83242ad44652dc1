//! Sending through the outbox: sandbox and fake Meta providers, checks before queueing,
//! idempotency, retries, re-authentication and the status history.

use std::time::Duration;

use serde_json::{Value, json};
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::*;
use crate::inbox::{meta_inbound, sandbox_inbound};
use crate::setup::full_meta_setup;

/// A sandbox account set up in one call; returns (account id, phone number id).
pub async fn sandbox_account(app: &TestApp, token: &str) -> (i64, i64) {
    let body = json!({"name": "Sandbox", "phone_number": {"phone_number": "+14155550100"}, "business_profile": {"name": "Play"}});
    let res = app.post("/api/v1/accounts/setup", token, body).await.expect(201);
    (res["account"]["id"].as_i64().unwrap(), res["phone_number"]["id"].as_i64().unwrap())
}

/// Polls a message until it leaves `queued`/`sending` (or 10 s pass).
pub async fn settle(app: &TestApp, token: &str, id: i64) -> Value {
    for _ in 0..200 {
        let m = app.get(&format!("/api/v1/messages/{id}"), token).await.expect(200);
        if m["status"] != "queued" && m["status"] != "sending" {
            return m;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("message {id} did not settle");
}

fn text(to: &str) -> Value {
    json!({"to": to, "message": {"type": "text", "body": "hello"}})
}

#[actix_web::test]
async fn sandbox_send_is_queued_then_sent_with_history() {
    let app = spawn_app().await;
    let t = app.signup("ann").await;
    let (account, _) = sandbox_account(&app, &t.token).await;
    for contact in ["+919876543210", "+919876543211"] {
        sandbox_inbound(&app, &t.token, account, contact).await;
    }
    let mut body = text("+919876543210");
    body["account_id"] = json!(account);
    let res = app.post("/api/v1/messages", &t.token, body).await;
    assert!(res.headers.get("location").is_some());
    let queued = res.expect(202);
    assert_eq!(queued["status"], "queued");
    let m = settle(&app, &t.token, queued["id"].as_i64().unwrap()).await;
    assert_eq!(m["status"], "sent", "{m}");
    assert!(m["provider_message_id"].as_str().unwrap().starts_with("wamid."));
    let history: Vec<&str> = m["history"].as_array().unwrap().iter().map(|e| e["status"].as_str().unwrap()).collect();
    assert_eq!(&history[..2], ["queued", "sent"]);
    let waited = app
        .post(&format!("/api/v1/accounts/{account}/send_message?wait=true"), &t.token, text("+919876543211"))
        .await
        .expect(201);
    assert_eq!(waited["status"], "sent");
    let list = app
        .get(&format!("/api/v1/messages?account_id={account}&status=sent&recipient=%2B919876543211"), &t.token)
        .await
        .expect(200);
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn idempotency_key_returns_the_first_message() {
    let app = spawn_app().await;
    let t = app.signup("ann").await;
    let (account, _) = sandbox_account(&app, &t.token).await;
    sandbox_inbound(&app, &t.token, account, "+919876543210").await;
    let send = || async {
        let res = app
            .client
            .post(app.url(&format!("/api/v1/accounts/{account}/send_message")))
            .bearer_auth(&t.token)
            .header("Idempotency-Key", "order-42")
            .json(&text("+919876543210"))
            .send()
            .await
            .unwrap();
        TestApp::read(res).await
    };
    let first = send().await.expect(202);
    let second = send().await.expect(200);
    assert_eq!(first["id"], second["id"]);
    let list = app.get("/api/v1/messages?direction=outbound", &t.token).await.expect(200);
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn refusals_before_queueing_change_nothing() {
    let app = spawn_app().await;
    let t = app.signup("ann").await;
    let (account, _) = sandbox_account(&app, &t.token).await;
    let url = format!("/api/v1/accounts/{account}/send_message");
    let e = app.post(&url, &t.token, text("12345")).await.problem(422, "validation_failed");
    assert_eq!(e["errors"]["to"], json!(["invalid_e164"]));
    let long = json!({"to": "+919876543210", "message": {"type": "text", "body": "x".repeat(4097)}});
    app.post(&url, &t.token, long).await.problem(422, "validation_failed");
    let template = json!({"to": "+919876543210", "message": {"type": "template", "name": "nope", "language": "en"}});
    app.post(&url, &t.token, template).await.problem(422, "template_not_ready");
    app.post("/api/v1/accounts/999999/send_message", &t.token, text("+919876543210")).await.problem(404, "not_found");
    let other = app.signup("bob").await;
    app.post(&url, &other.token, text("+919876543210")).await.problem(404, "not_found");
    let pending = app.post("/api/v1/accounts", &t.token, json!({"name": "Pending"})).await.expect(201);
    app.post(&format!("/api/v1/accounts/{}/send_message", pending["id"]), &t.token, text("+919876543210"))
        .await
        .problem(409, "account_not_active");

    let db = app.state.db.clone();
    let tenant = t.id;
    actix_web::web::block(move || {
        use diesel::RunQueryDsl;
        let mut c = db.get().unwrap();
        diesel::sql_query(format!(
            "INSERT INTO opt_outs (tenant_id, phone, source, created_at) VALUES ({tenant}, '+919876543299', 'api', CURRENT_TIMESTAMP)"
        ))
        .execute(&mut *c)
        .unwrap();
    })
    .await
    .unwrap();
    app.post(&url, &t.token, text("+91 98765 43299")).await.problem(409, "recipient_opted_out");
    assert_eq!(app.get("/api/v1/messages", &t.token).await.expect(200)["data"], json!([]));
}

#[actix_web::test]
async fn daily_quota_answers_429() {
    let app = spawn_app().await;
    let t = app.signup("ann").await;
    let (account, _) = sandbox_account(&app, &t.token).await;
    let root = app.platform_admin().await;
    app.put(&format!("/api/v1/admin/tenants/{}/quotas", t.id), &root, json!({"daily_message_quota": 1}))
        .await
        .expect(200);
    let url = format!("/api/v1/accounts/{account}/send_message");
    for contact in ["+919876543210", "+919876543211"] {
        sandbox_inbound(&app, &t.token, account, contact).await;
    }
    app.post(&url, &t.token, text("+919876543210")).await.expect(202);
    let res = app.post(&url, &t.token, text("+919876543211")).await;
    assert!(res.headers.get("retry-after").is_some());
    res.problem(429, "rate_limited");
}

#[actix_web::test]
async fn sandbox_failure_numbers_fail_with_the_provider_code() {
    let app = spawn_app().await;
    let t = app.signup("ann").await;
    let (account, _) = sandbox_account(&app, &t.token).await;
    sandbox_inbound(&app, &t.token, account, "+14155550000").await;
    let url = format!("/api/v1/accounts/{account}/send_message?wait=true");
    let m = app.post(&url, &t.token, text("+14155550000")).await.expect(201);
    assert_eq!(m["status"], "failed");
    assert_eq!(m["error"]["code"], "131026");
}

/// A Meta account whose Graph API is a wiremock fake.
async fn meta_app() -> (TestApp, MockServer, Tenant, i64) {
    let fake = MockServer::start().await;
    let uri = fake.uri();
    let app = spawn_app_with(|s| s.meta_graph_url = uri).await;
    let t = app.signup("ann").await;
    let res =
        app.post("/api/v1/accounts/setup", &t.token, full_meta_setup("Meta", "+14155550100", "1065")).await.expect(201);
    let account = res["account"]["id"].as_i64().unwrap();
    for contact in ["+919876543210", "+919876543211"] {
        meta_inbound(&app, &t.token, account, contact, 0).await;
    }
    (app, fake, t, account)
}

fn meta_ok(id: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"messaging_product": "whatsapp", "contacts": [{"input": "919876543210", "wa_id": "919876543210"}], "messages": [{"id": id}]}))
}

fn meta_error(status: u16, code: i64) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({"error": {"message": format!("(#{code}) error"), "type": "OAuthException", "code": code, "error_data": {"messaging_product": "whatsapp", "details": "details here"}, "fbtrace_id": "x"}}))
}

#[actix_web::test]
async fn meta_send_carries_our_id_and_the_exact_body() {
    let (app, fake, t, account) = meta_app().await;
    Mock::given(method("POST"))
        .and(path("/v23.0/1065/messages"))
        .and(header("authorization", "Bearer EAAG-token-123456"))
        .and(body_partial_json(
            json!({"messaging_product": "whatsapp", "to": "919876543210", "type": "text", "text": {"body": "hello"}}),
        ))
        .respond_with(meta_ok("wamid.REAL1"))
        .expect(1)
        .mount(&fake)
        .await;
    let m = app
        .post(&format!("/api/v1/accounts/{account}/send_message?wait=true"), &t.token, text("+919876543210"))
        .await
        .expect(201);
    assert_eq!(m["status"], "sent");
    assert_eq!(m["provider_message_id"], "wamid.REAL1");
    let received = &fake.received_requests().await.unwrap()[0];
    let body: Value = serde_json::from_slice(&received.body).unwrap();
    assert_eq!(body["biz_opaque_callback_data"], m["id"].to_string());
}

#[actix_web::test]
async fn throughput_errors_are_retried_and_then_sent() {
    let (app, fake, t, account) = meta_app().await;
    Mock::given(method("POST")).respond_with(meta_error(400, 130429)).up_to_n_times(1).mount(&fake).await;
    Mock::given(method("POST")).respond_with(meta_ok("wamid.AFTER")).mount(&fake).await;
    let q = app
        .post(&format!("/api/v1/accounts/{account}/send_message"), &t.token, text("+919876543210"))
        .await
        .expect(202);
    let id = q["id"].as_i64().unwrap();
    let mut m = settle(&app, &t.token, id).await;
    for _ in 0..100 {
        if m["status"] == "sent" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        m = settle(&app, &t.token, id).await;
    }
    assert_eq!(m["status"], "sent", "{m}");
    assert_eq!(m["attempts"], 2);
    assert!(m["history"].as_array().unwrap().iter().any(|e| e["status"] == "retry_scheduled"));
}

#[actix_web::test]
async fn permanent_errors_fail_with_code_and_title() {
    let (app, fake, t, account) = meta_app().await;
    Mock::given(method("POST")).respond_with(meta_error(400, 131026)).mount(&fake).await;
    let m = app
        .post(&format!("/api/v1/accounts/{account}/send_message?wait=true"), &t.token, text("+919876543210"))
        .await
        .expect(201);
    assert_eq!(m["status"], "failed");
    assert_eq!(m["error"]["code"], "131026");
    assert!(m["error"]["title"].as_str().unwrap().starts_with("ERR_"));
}

#[actix_web::test]
async fn expired_token_pauses_the_account_until_new_credentials() {
    let (app, fake, t, account) = meta_app().await;
    Mock::given(method("POST")).respond_with(meta_error(401, 190)).up_to_n_times(1).mount(&fake).await;
    Mock::given(method("POST")).respond_with(meta_ok("wamid.REAUTH")).mount(&fake).await;
    let q = app
        .post(&format!("/api/v1/accounts/{account}/send_message"), &t.token, text("+919876543210"))
        .await
        .expect(202);
    let id = q["id"].as_i64().unwrap();
    let mut status = Value::Null;
    for _ in 0..100 {
        status = app.get(&format!("/api/v1/accounts/{account}"), &t.token).await.expect(200)["status"].clone();
        if status == "needs_reauth" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status, "needs_reauth");
    let m = app.get(&format!("/api/v1/messages/{id}"), &t.token).await.expect(200);
    assert_eq!(m["status"], "queued");
    app.post(&format!("/api/v1/accounts/{account}/send_message"), &t.token, text("+919876543211"))
        .await
        .problem(409, "account_needs_reauth");
    let fixed = app
        .patch(&format!("/api/v1/accounts/{account}"), &t.token, json!({"access_token": "EAAG-new-token-999"}))
        .await
        .expect(200);
    assert_eq!(fixed["status"], "active");
}

#[actix_web::test]
async fn media_links_must_be_public() {
    let app = spawn_app_with(|s| s.allow_private_urls = false).await;
    let t = app.signup("ann").await;
    let (account, _) = sandbox_account(&app, &t.token).await;
    let url = format!("/api/v1/accounts/{account}/send_message");
    for link in
        ["http://127.0.0.1:9/a.jpg", "http://169.254.169.254/latest", "http://10.0.0.5/a.jpg", "http://[::1]/a.jpg"]
    {
        let body = json!({"to": "+919876543210", "message": {"type": "media", "kind": "image", "link": link}});
        let e = app.post(&url, &t.token, body).await.problem(422, "validation_failed");
        assert_eq!(e["errors"]["message.link"], json!(["media_url_not_allowed"]), "{link}");
    }
}

#[actix_web::test]
async fn media_type_and_size_are_checked_with_head() {
    let fake = MockServer::start().await;
    let head = |p: &str, ct: &str, len: &str| {
        Mock::given(method("HEAD")).and(path(p.to_string())).respond_with(
            ResponseTemplate::new(200).insert_header("content-type", ct).insert_header("content-length", len),
        )
    };
    head("/ok.jpg", "image/jpeg", "1000").mount(&fake).await;
    head("/big.jpg", "image/jpeg", "6291456").mount(&fake).await;
    head("/anim.gif", "image/gif", "1000").mount(&fake).await;
    head("/doc.pdf", "application/pdf; charset=binary", "50000").mount(&fake).await;
    let app = spawn_app_with(|s| s.allow_private_urls = true).await;
    let t = app.signup("ann").await;
    let (account, _) = sandbox_account(&app, &t.token).await;
    let url = format!("/api/v1/accounts/{account}/send_message");
    let send = |kind: &str, file: &str| json!({"to": "+919876543210", "message": {"type": "media", "kind": kind, "link": format!("{}/{file}", fake.uri())}});
    app.post(&url, &t.token, send("image", "ok.jpg")).await.problem(422, "outside_service_window");
    sandbox_inbound(&app, &t.token, account, "+919876543210").await;
    app.post(&url, &t.token, send("image", "ok.jpg")).await.expect(202);
    app.post(&url, &t.token, send("document", "doc.pdf")).await.expect(202);
    for (kind, file, code) in [
        ("image", "big.jpg", "media_too_large"),
        ("image", "anim.gif", "ERR_MEDIA_UNSUPPORTED"),
        ("image", "missing.jpg", "media_unreachable"),
        ("video", "ok.jpg", "ERR_MEDIA_UNSUPPORTED"),
    ] {
        let e = app.post(&url, &t.token, send(kind, file)).await.problem(422, "validation_failed");
        assert_eq!(e["errors"]["message.link"], json!([code]), "{file}");
    }
}

#[actix_web::test]
async fn limits_make_messages_wait_not_fail() {
    let app = spawn_app().await;
    let t = app.signup("ann").await;
    let (account, _) = sandbox_account(&app, &t.token).await;
    app.patch(&format!("/api/v1/accounts/{account}"), &t.token, json!({"limits": {"messages_per_minute": 2}}))
        .await
        .expect(200);
    let url = format!("/api/v1/accounts/{account}/send_message");
    for contact in ["+919876543210", "+919876543211", "+919876543212"] {
        sandbox_inbound(&app, &t.token, account, contact).await;
    }
    let mut ids = Vec::new();
    for to in ["+919876543210", "+919876543211", "+919876543212"] {
        ids.push(app.post(&url, &t.token, text(to)).await.expect(202)["id"].as_i64().unwrap());
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let mut statuses = Vec::new();
    for id in &ids {
        statuses.push(
            app.get(&format!("/api/v1/messages/{id}"), &t.token).await.expect(200)["status"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    assert_eq!(statuses.iter().filter(|s| *s != "queued").count(), 2, "{statuses:?}");
    assert!(statuses.contains(&"queued".to_string()));
}

#[actix_web::test]
async fn pair_rate_guard_spaces_messages_to_one_user() {
    let app = spawn_app().await;
    let t = app.signup("ann").await;
    let (account, _) = sandbox_account(&app, &t.token).await;
    sandbox_inbound(&app, &t.token, account, "+919876543210").await;
    let url = format!("/api/v1/accounts/{account}/send_message?wait=true");
    app.post(&url, &t.token, text("+919876543210")).await.expect(201);
    let url = format!("/api/v1/accounts/{account}/send_message");
    let again = app.post(&url, &t.token, text("+919876543210")).await.expect(202)["id"].as_i64().unwrap();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let held = app.get(&format!("/api/v1/messages/{again}"), &t.token).await.expect(200);
    assert_eq!(held["status"], "queued", "{held}");
    let waiting =
        held["history"].as_array().unwrap().iter().find(|e| e["status"] == "waiting").expect("a waiting event");
    assert!(waiting["detail"].as_str().unwrap().contains("pair rate"));
}
