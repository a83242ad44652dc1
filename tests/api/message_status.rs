//! One state machine for a message's status: the races between the outbox's own answer and the
//! provider's status webhooks, `failed` against `delivered` in either order, implied states,
//! errors cleared on success, and messages in doubt settled, left unconfirmed and resent.

use std::time::Duration;

use serde_json::{Value, json};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::*;
use crate::inbox::meta_inbound;
use crate::webhooks::{APP_SECRET, deliver_signed, drained, meta_app};

const TO: &str = "+919876543210";

fn meta_ok(id: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"messaging_product": "whatsapp", "messages": [{"id": id}]}))
}

/// A Meta status report for our message `id` (its callback data), `age` seconds before now.
fn report(wamid: &str, id: i64, status: &str, at: i64) -> Value {
    let mut s = json!({"id": wamid, "status": status, "timestamp": at.to_string(), "recipient_id": "919876543210",
        "biz_opaque_callback_data": id.to_string()});
    if status == "failed" {
        s["errors"] = json!([{"code": 131026, "title": "Message undeliverable", "message": "Message undeliverable"}]);
    }
    s
}

fn statuses_body(statuses: Vec<Value>) -> Value {
    crate::webhooks::envelope(vec![json!({"field": "messages", "value": {"messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "14155550100", "phone_number_id": "106540352242922"}, "statuses": statuses}})])
}

/// A Meta app whose contact wrote a minute ago (so text may be sent); the fake Graph API is
/// not yet answering.
async fn world() -> (TestApp, MockServer, Tenant, i64, String) {
    let (app, fake, t, account, path) = meta_app().await;
    meta_inbound(&app, &t.token, account, TO, 60).await;
    (app, fake, t, account, path)
}

async fn send_text(app: &TestApp, t: &Tenant, account: i64) -> i64 {
    let body = json!({"to": TO, "message": {"type": "text", "body": "hello"}});
    let q = app.post(&format!("/api/v1/accounts/{account}/send_message"), &t.token, body).await.expect(202);
    q["id"].as_i64().unwrap()
}

/// Waits until the fake has received `n` sends.
async fn received(fake: &MockServer, n: usize) {
    for _ in 0..400 {
        if fake.received_requests().await.unwrap().iter().filter(|r| r.url.path().ends_with("/messages")).count() >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the provider did not receive {n} sends");
}

async fn message(app: &TestApp, t: &Tenant, id: i64) -> Value {
    app.get(&format!("/api/v1/messages/{id}"), &t.token).await.expect(200)
}

fn history(m: &Value) -> Vec<String> {
    m["history"].as_array().unwrap().iter().map(|e| e["status"].as_str().unwrap().to_string()).collect()
}

/// Polls the message until `done` holds (or 10 s pass).
async fn until(app: &TestApp, t: &Tenant, id: i64, done: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..400 {
        let m = message(app, t, id).await;
        if done(&m) {
            return m;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("message {id} never reached the expected state: {}", message(app, t, id).await);
}

async fn totals(app: &TestApp, t: &Tenant, account: i64) -> Value {
    app.get(&format!("/api/v1/accounts/{account}/analytics"), &t.token).await.expect(200)["totals"].clone()
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// The send's request reaches the provider, which reports `sent` and `delivered` by webhook while
/// its answer is still on the way; the answer then arrives (`lost` false) or is lost to the client
/// timeout (`lost` true). Either way the message ends delivered, with one `sent` in its history
/// and counted once.
async fn webhook_before_the_reply(lost: bool) {
    let (app, fake, t, account, path) = world().await;
    let delay = if lost { Duration::from_secs(4) } else { Duration::from_millis(1200) };
    Mock::given(method("POST")).respond_with(meta_ok("wamid.RACE").set_delay(delay)).mount(&fake).await;
    let id = send_text(&app, &t, account).await;
    received(&fake, 1).await;
    let at = now();
    let reports = vec![report("wamid.RACE", id, "sent", at), report("wamid.RACE", id, "delivered", at)];
    deliver_signed(&app, &path, APP_SECRET, &statuses_body(reports)).await;
    drained(&app, &t.token).await;
    assert_eq!(message(&app, &t, id).await["status"], "delivered");
    // The outbox's own outcome: the answer (1.2 s), or the client's timeout (2 s).
    tokio::time::sleep(if lost { Duration::from_millis(3000) } else { Duration::from_millis(1800) }).await;
    let m = message(&app, &t, id).await;
    assert_eq!(m["status"], "delivered", "{m}");
    assert_eq!(history(&m), ["queued", "sent", "delivered"], "{m}");
    assert!(m["error"].is_null(), "{m}");
    assert_eq!(m["provider_message_id"], "wamid.RACE");
    assert!(m["sent_at"].is_string() && m["delivered_at"].is_string(), "{m}");
    let totals = totals(&app, &t, account).await;
    assert_eq!((totals["sent"].as_i64(), totals["delivered"].as_i64()), (Some(1), Some(1)), "{totals}");
}

#[actix_web::test]
async fn a_status_webhook_before_a_lost_reply_is_not_overwritten_by_unknown() {
    webhook_before_the_reply(true).await;
}

#[actix_web::test]
async fn a_status_webhook_before_the_reply_adds_no_second_sent() {
    webhook_before_the_reply(false).await;
}

/// Sends one message, answered at once, and applies `reports` (in this order, one webhook each).
async fn reported(reports: impl Fn(i64, i64) -> Vec<Value>) -> (TestApp, Tenant, i64, Value) {
    let (app, fake, t, account, path) = world().await;
    Mock::given(method("POST")).respond_with(meta_ok("wamid.ORDER")).mount(&fake).await;
    let id = send_text(&app, &t, account).await;
    until(&app, &t, id, |m| m["status"] == "sent").await;
    for r in reports(id, now()) {
        deliver_signed(&app, &path, APP_SECRET, &statuses_body(vec![r])).await;
        drained(&app, &t.token).await;
    }
    let m = message(&app, &t, id).await;
    (app, t, account, m)
}

#[actix_web::test]
async fn failed_after_delivered_wins_by_its_later_timestamp_in_either_order() {
    let delivered = |id, at| report("wamid.ORDER", id, "delivered", at + 10);
    let failed = |id, at| report("wamid.ORDER", id, "failed", at + 20);
    let (app1, t1, account1, last) = reported(|id, at| vec![delivered(id, at), failed(id, at)]).await;
    let (app2, t2, account2, first) = reported(|id, at| vec![failed(id, at), delivered(id, at)]).await;
    for (app, t, account, m) in [(&app1, &t1, account1, &last), (&app2, &t2, account2, &first)] {
        assert_eq!(m["status"], "failed", "{m}");
        assert!(m["failed_at"].is_string(), "{m}");
        assert!(m["delivered_at"].is_null(), "a failed message keeps no delivery: {m}");
        assert_eq!(m["error"]["code"], "131026", "{m}");
        let totals = totals(app, t, account).await;
        assert_eq!(
            (totals["sent"].as_i64(), totals["delivered"].as_i64(), totals["failed"].as_i64()),
            (Some(1), Some(0), Some(1)),
            "{totals}"
        );
    }
    assert_eq!(history(&first), ["queued", "sent", "failed"]);
    assert_eq!(history(&last), ["queued", "sent", "delivered", "failed"]);
}

#[actix_web::test]
async fn a_failed_older_than_the_delivery_is_stale_in_either_order() {
    let delivered = |id, at| report("wamid.ORDER", id, "delivered", at + 20);
    let failed = |id, at| report("wamid.ORDER", id, "failed", at + 10);
    let (_a1, _t1, _c1, last) = reported(|id, at| vec![delivered(id, at), failed(id, at)]).await;
    let (_a2, _t2, _c2, first) = reported(|id, at| vec![failed(id, at), delivered(id, at)]).await;
    for m in [&last, &first] {
        assert_eq!(m["status"], "delivered", "{m}");
        assert!(m["failed_at"].is_null() && m["error"].is_null(), "{m}");
        assert!(m["delivered_at"].is_string(), "{m}");
    }
    assert_eq!(history(&last), ["queued", "sent", "delivered"]);
}

#[actix_web::test]
async fn read_before_delivered_fills_in_delivered_once() {
    let (app, t, account, m) = reported(|id, at| {
        vec![report("wamid.ORDER", id, "read", at + 20), report("wamid.ORDER", id, "delivered", at + 10)]
    })
    .await;
    assert_eq!(m["status"], "read", "{m}");
    assert_eq!(history(&m), ["queued", "sent", "delivered", "read"], "{m}");
    assert!(m["delivered_at"].is_string() && m["read_at"].is_string(), "{m}");
    let totals = totals(&app, &t, account).await;
    assert_eq!((totals["delivered"].as_i64(), totals["read"].as_i64()), (Some(1), Some(1)), "{totals}");
}

#[actix_web::test]
async fn a_message_sent_after_a_retry_keeps_no_error() {
    let (app, fake, t, account, _) = world().await;
    let throttled = ResponseTemplate::new(400).set_body_json(json!({"error": {"message": "(#130429) throughput",
        "type": "OAuthException", "code": 130429, "fbtrace_id": "x"}}));
    Mock::given(method("POST")).respond_with(throttled).up_to_n_times(1).mount(&fake).await;
    Mock::given(method("POST")).respond_with(meta_ok("wamid.AFTER")).mount(&fake).await;
    let id = send_text(&app, &t, account).await;
    let m = until(&app, &t, id, |m| m["status"] == "sent").await;
    assert!(history(&m).contains(&"retry_scheduled".to_string()), "{m}");
    assert!(m["error"].is_null(), "the retry's error stayed on a sent message: {m}");
}

/// The reply is lost to the client timeout and no webhook comes.
async fn in_doubt(settle_secs: u64) -> (TestApp, MockServer, Tenant, i64, String, i64) {
    let fake = MockServer::start().await;
    let uri = fake.uri();
    let app = spawn_app_with(|s| {
        s.meta_graph_url = uri;
        s.unknown_settle_secs = settle_secs;
    })
    .await;
    let t = app.signup("ann").await;
    let res = app
        .post(
            "/api/v1/accounts/setup",
            &t.token,
            crate::setup::full_meta_setup("Meta", "+14155550100", "106540352242922"),
        )
        .await
        .expect(201);
    let account = res["account"]["id"].as_i64().unwrap();
    let path = crate::webhooks::path_of(res["account"]["webhook_url"].as_str().unwrap()).to_string();
    meta_inbound(&app, &t.token, account, TO, 60).await;
    let slow = meta_ok("wamid.SLOW").set_delay(Duration::from_secs(4));
    Mock::given(method("POST")).respond_with(slow).up_to_n_times(1).mount(&fake).await;
    Mock::given(method("POST")).respond_with(meta_ok("wamid.AGAIN")).mount(&fake).await;
    let id = send_text(&app, &t, account).await;
    until(&app, &t, id, |m| m["status"] == "unknown").await;
    (app, fake, t, account, path, id)
}

#[actix_web::test]
async fn an_unknown_message_is_settled_by_a_later_status_webhook() {
    let (app, _fake, t, account, path, id) = in_doubt(3600).await;
    deliver_signed(&app, &path, APP_SECRET, &statuses_body(vec![report("wamid.SLOW", id, "delivered", now())])).await;
    drained(&app, &t.token).await;
    let m = message(&app, &t, id).await;
    assert_eq!(m["status"], "delivered", "{m}");
    assert_eq!(history(&m), ["queued", "unknown", "sent", "delivered"], "{m}");
    assert!(m["error"].is_null(), "{m}");
    let totals = totals(&app, &t, account).await;
    assert_eq!((totals["sent"].as_i64(), totals["delivered"].as_i64()), (Some(1), Some(1)), "{totals}");
}

#[actix_web::test]
async fn an_unconfirmed_message_is_resent_only_when_an_owner_asks() {
    let (app, fake, t, _account, _path, id) = in_doubt(1).await;
    let m = until(&app, &t, id, |m| m["status"] == "unconfirmed").await;
    assert_eq!(history(&m), ["queued", "unknown", "unconfirmed"], "{m}");
    let listed = app.get("/api/v1/messages?status=unconfirmed", &t.token).await.expect(200);
    assert_eq!(listed["data"][0]["id"], id);
    // Nothing resends it by itself.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        fake.received_requests().await.unwrap().iter().filter(|r| r.url.path().ends_with("/messages")).count(),
        1
    );

    let user = json!({"email": "mia@example.com", "name": "Mia", "role": "member", "password": "memberpass"});
    app.post("/api/v1/users", &t.token, user).await.expect(201);
    let member = app.login("mia@example.com", "memberpass").await;
    app.post(&format!("/api/v1/messages/{id}/resend"), &member, json!({})).await.problem(403, "insufficient_role");
    let again = app.post(&format!("/api/v1/messages/{id}/resend"), &t.token, json!({})).await.expect(202);
    assert_eq!(again["status"], "queued");
    let m = until(&app, &t, id, |m| m["status"] == "sent").await;
    // (The pair rate may hold the resend a moment: a `waiting` entry.)
    let statuses: Vec<String> = history(&m).into_iter().filter(|s| s != "waiting").collect();
    assert_eq!(statuses, ["queued", "unknown", "unconfirmed", "queued", "sent"], "{m}");
    let resent = &m["history"][3];
    assert!(resent["detail"].as_str().unwrap().starts_with("resent by user "), "{m}");
    assert_eq!(m["provider_message_id"], "wamid.AGAIN");
    received(&fake, 2).await;
    app.post(&format!("/api/v1/messages/{id}/resend"), &t.token, json!({})).await.problem(409, "not_unconfirmed");
    app.post("/api/v1/messages/999999/resend", &t.token, json!({})).await.problem(404, "not_found");
}
