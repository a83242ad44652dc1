//! The inbox: the 24-hour customer-service window on free-form sends, simulated sandbox
//! inbound messages, leads and notes from inbound messages, Flow submissions, pricing and
//! billable counts, and RED numbers pausing their queue.

use std::time::Duration;

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::*;
use crate::messages::{sandbox_account, settle};
use crate::setup::full_meta_setup;
use crate::webhooks::{deliver_signed, path_of};

/// The app secret of accounts made with `full_meta_setup`.
const META_SECRET: &str = "app-secret-123456";

/// `from` writes "hi" to a sandbox account (opening the window); returns the stored message.
pub async fn sandbox_inbound(app: &TestApp, token: &str, account: i64, from: &str) -> Value {
    let body = json!({"from": from, "text": "hi"});
    app.post(&format!("/api/v1/accounts/{account}/sandbox/inbound"), token, body).await.expect(201)
}

/// The path of an account's webhook URL.
pub async fn webhook_path(app: &TestApp, token: &str, account: i64) -> String {
    let acc = app.get(&format!("/api/v1/accounts/{account}"), token).await.expect(200);
    path_of(acc["webhook_url"].as_str().unwrap()).to_string()
}

/// Waits until every stored webhook event of the tenant has been applied.
pub async fn drained(app: &TestApp, token: &str) {
    for _ in 0..400 {
        let page = app.get("/api/v1/webhook-events?processed=false", token).await.expect(200);
        if page["data"].as_array().unwrap().is_empty() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("webhook events were not processed");
}

/// A `messages` webhook with these inbound messages.
pub fn inbound_body(messages: Value, contacts: Value) -> Value {
    json!({"object": "whatsapp_business_account", "entry": [{"id": "2222", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp", "metadata": {"phone_number_id": "none"}, "contacts": contacts, "messages": messages}}]}]})
}

/// `from` (E.164) writes to a Meta account made with `full_meta_setup`, `age_secs` ago, by a
/// signed webhook. The account's bot is turned off first, so no automatic reply reaches the fake
/// provider. Waits until the message is applied.
pub async fn meta_inbound(app: &TestApp, token: &str, account: i64, from: &str, age_secs: i64) {
    let off = json!({"bot_settings": {"enable_auto_reply": false}});
    app.patch(&format!("/api/v1/accounts/{account}"), token, off).await.expect(200);
    let at = chrono::Utc::now().timestamp() - age_secs;
    let digits = from.trim_start_matches('+');
    let id = format!("wamid.IN.{digits}.{}", chrono::Utc::now().timestamp_nanos_opt().unwrap());
    let m = json!([{"from": digits, "id": id, "timestamp": at.to_string(), "type": "text", "text": {"body": "hello"}}]);
    let path = webhook_path(app, token, account).await;
    deliver_signed(app, &path, META_SECRET, &inbound_body(m, json!([]))).await;
    drained(app, token).await;
}

/// A Meta app whose Graph API is a fake answering sends with `wamid.OUT.<n>`.
async fn meta_app() -> (TestApp, MockServer, Tenant, i64) {
    let fake = MockServer::start().await;
    let count = std::sync::atomic::AtomicUsize::new(0);
    let reply = move |_: &wiremock::Request| {
        let n = count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        ResponseTemplate::new(200)
            .set_body_json(json!({"messaging_product": "whatsapp", "messages": [{"id": format!("wamid.OUT.{n}")}]}))
    };
    Mock::given(method("POST")).respond_with(reply).mount(&fake).await;
    let uri = fake.uri();
    let app = spawn_app_with(|s| s.meta_graph_url = uri).await;
    let t = app.signup("ann").await;
    let res =
        app.post("/api/v1/accounts/setup", &t.token, full_meta_setup("Meta", "+14155550100", "1065")).await.expect(201);
    (app, fake, t, res["account"]["id"].as_i64().unwrap())
}

fn text(to: &str) -> Value {
    json!({"to": to, "message": {"type": "text", "body": "hello"}})
}

/// Approves the draft `order_update` template of an account by a signed status webhook.
pub async fn approved_by_webhook(app: &TestApp, token: &str, account: i64, secret: &str) {
    app.post(&format!("/api/v1/accounts/{account}/templates"), token, crate::templates::order_update())
        .await
        .expect(201);
    let approve = json!({"object": "whatsapp_business_account", "entry": [{"id": "2222", "changes": [
        {"field": "message_template_status_update", "value": {"event": "APPROVED", "message_template_name": "order_update", "message_template_language": "en_US"}}]}]});
    let path = webhook_path(app, token, account).await;
    deliver_signed(app, &path, secret, &approve).await;
    drained(app, token).await;
}

/// An `order_update` template send to `to`.
pub fn template_to(to: &str) -> Value {
    json!({"to": to, "message": {"type": "template", "name": "order_update", "language": "en_US", "components": {"body": [{"text": "Ann"}, {"text": "A1"}]}}})
}

#[actix_web::test]
async fn free_form_sends_outside_the_window_are_refused_before_the_provider() {
    let (app, fake, t, account) = meta_app().await;
    let url = format!("/api/v1/accounts/{account}/send_message");
    let buttons = json!({"to": "+919876543210", "message": {"type": "interactive", "body": "Pick one",
        "action": {"type": "buttons", "buttons": [{"id": "a", "title": "A"}]}}});
    let flow = json!({"to": "+919876543210", "message": {"type": "interactive", "body": "Book",
        "action": {"type": "flow", "flow_id": "1", "flow_cta": "Open", "flow_token": "t"}}});
    for body in [text("+919876543210"), buttons.clone(), flow] {
        let e = app.post(&url, &t.token, body).await.problem(422, "outside_service_window");
        assert!(e["detail"].as_str().unwrap().contains("24 hours"), "{e}");
    }
    let mut body = text("+919876543210");
    body["account_id"] = json!(account);
    app.post("/api/v1/messages", &t.token, body).await.problem(422, "outside_service_window");
    // A message the contact sent 25 hours ago (delivered late) opens nothing.
    meta_inbound(&app, &t.token, account, "+919876543210", 25 * 3600).await;
    app.post(&url, &t.token, text("+919876543210")).await.problem(422, "outside_service_window");
    let conv = app.get("/api/v1/conversations", &t.token).await.expect(200);
    assert_eq!(conv["data"][0]["service_window_open"], false, "{conv}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let outbound = app.get("/api/v1/messages?direction=outbound", &t.token).await.expect(200);
    assert_eq!(outbound["data"], json!([]), "nothing is queued");
    assert!(fake.received_requests().await.unwrap().is_empty(), "the provider is never called");

    // Once the contact writes, free-form messages go out; other contacts stay closed.
    meta_inbound(&app, &t.token, account, "+919876543210", 23 * 3600).await;
    let conv = app.get(&format!("/api/v1/conversations?account_id={account}"), &t.token).await.expect(200);
    assert_eq!(conv["data"][0]["service_window_open"], true, "{conv}");
    let sent = app.post(&format!("{url}?wait=true"), &t.token, text("+919876543210")).await.expect(201);
    assert_eq!(sent["status"], "sent", "{sent}");
    app.post(&url, &t.token, buttons).await.expect(202);
    app.post(&url, &t.token, text("+919876543211")).await.problem(422, "outside_service_window");
}

#[actix_web::test]
async fn sandbox_inbound_opens_the_window_and_templates_need_none() {
    let app = spawn_app().await;
    let t = app.signup("ann").await;
    let (account, phone) = sandbox_account(&app, &t.token).await;
    let url = format!("/api/v1/accounts/{account}/send_message");
    app.post(&url, &t.token, text("+919876543210")).await.problem(422, "outside_service_window");
    approved_by_webhook(&app, &t.token, account, wabahub::providers::sandbox::SANDBOX_APP_SECRET).await;
    let tpl = app.post(&format!("{url}?wait=true"), &t.token, template_to("+919876543210")).await.expect(201);
    assert_eq!(tpl["status"], "sent", "templates are allowed outside the window: {tpl}");

    let inbound = app
        .post(
            &format!("/api/v1/accounts/{account}/sandbox/inbound"),
            &t.token,
            json!({"from": "+91 98765 43210", "text": "Is it in stock?", "name": "Asha"}),
        )
        .await
        .expect(201);
    assert_eq!(inbound["direction"], "inbound");
    assert_eq!(inbound["status"], "received");
    assert_eq!(inbound["recipient"], "+919876543210");
    assert_eq!(inbound["phone_number_id"], phone);
    assert_eq!(inbound["message"]["text"]["body"], "Is it in stock?");
    assert!(inbound["provider_message_id"].as_str().unwrap().starts_with("wamid.SANDBOX."));
    assert!(inbound["lead_id"].is_i64(), "{inbound}");
    let event = app.get("/api/v1/webhook-events", &t.token).await.expect(200);
    assert_eq!(event["data"][0]["provider"], "sandbox", "stored like a real webhook: {event}");
    let sent = app.post(&format!("{url}?wait=true"), &t.token, text("+919876543210")).await.expect(201);
    assert_eq!(sent["status"], "sent");

    let sim = format!("/api/v1/accounts/{account}/sandbox/inbound");
    let e = app.post(&sim, &t.token, json!({"from": "12", "text": ""})).await.problem(422, "validation_failed");
    assert!(e["errors"]["from"].is_array() && e["errors"]["text"].is_array(), "{e}");
    let other = app.signup("bob").await;
    app.post(&sim, &other.token, json!({"from": "+919876543210", "text": "x"})).await.problem(404, "not_found");
    let meta =
        app.post("/api/v1/accounts/setup", &t.token, full_meta_setup("Meta", "+14155550101", "77")).await.expect(201);
    let meta_sim = format!("/api/v1/accounts/{}/sandbox/inbound", meta["account"]["id"]);
    app.post(&meta_sim, &t.token, json!({"from": "+919876543212", "text": "x"}))
        .await
        .problem(409, "not_sandbox_account");
    let inbound = app.get("/api/v1/messages?direction=inbound", &t.token).await.expect(200);
    assert_eq!(inbound["data"].as_array().unwrap().len(), 1, "refused simulations store nothing");
}

/// The lead notes of a lead, oldest first.
async fn notes(app: &TestApp, lead: i64) -> Vec<(String, String)> {
    use diesel::prelude::*;
    use wabahub::db::schema::lead_notes;
    let db = app.state.db.clone();
    actix_web::web::block(move || {
        lead_notes::table
            .filter(lead_notes::lead_id.eq(lead))
            .order(lead_notes::id.asc())
            .select((lead_notes::source, lead_notes::body))
            .load::<(String, String)>(&mut db.get().unwrap())
            .unwrap()
    })
    .await
    .unwrap()
}

#[actix_web::test]
async fn inbound_messages_are_linked_to_a_lead_with_notes() {
    let app = spawn_app().await;
    let t = app.signup("ann").await;
    let (account, _) = sandbox_account(&app, &t.token).await;
    let path = webhook_path(&app, &t.token, account).await;
    let now = chrono::Utc::now().timestamp().to_string();
    let messages = json!([
        {"from": "919876543210", "id": "wamid.L1", "timestamp": now, "type": "text", "text": {"body": "Price of 2BHK?"}},
        {"from": "919876543210", "id": "wamid.L2", "timestamp": now, "type": "image", "image": {"id": "m1", "mime_type": "image/jpeg"}},
    ]);
    let contacts = json!([{"wa_id": "919876543210", "profile": {"name": "Ravi Kumar"}}]);
    let secret = wabahub::providers::sandbox::SANDBOX_APP_SECRET;
    deliver_signed(&app, &path, secret, &inbound_body(messages.clone(), contacts)).await;
    drained(&app, &t.token).await;
    let list = app.get("/api/v1/conversations/+919876543210/messages", &t.token).await.expect(200);
    let data = list["data"].as_array().unwrap();
    assert_eq!(data.len(), 2);
    let lead = data[0]["lead_id"].as_i64().expect("linked to a lead");
    assert_eq!(data[1]["lead_id"], lead, "one lead per contact");
    let tenant = wabahub::domain::TenantId(t.id);
    let db = app.state.db.clone();
    let row = actix_web::web::block(move || wabahub::store::leads::get(&mut db.get().unwrap(), tenant, lead).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((row.phone.as_str(), row.source.as_str()), ("+919876543210", "whatsapp"));
    assert_eq!(row.name.as_deref(), Some("Ravi Kumar"));
    let expected = [("whatsapp", "Price of 2BHK?"), ("whatsapp", "Sent an image")];
    let got = notes(&app, lead).await;
    assert_eq!(got.iter().map(|(s, b)| (s.as_str(), b.as_str())).collect::<Vec<_>>(), expected);
    // A redelivery (another body, same message ids) adds neither messages nor notes.
    deliver_signed(&app, &path, secret, &inbound_body(messages, json!([]))).await;
    drained(&app, &t.token).await;
    assert_eq!(notes(&app, lead).await.len(), 2);
}

#[actix_web::test]
async fn flow_replies_become_submissions_of_their_flow() {
    let app = spawn_app_with(|s| s.allow_private_urls = true).await;
    let t = app.signup("ann").await;
    let (account, _) = sandbox_account(&app, &t.token).await;
    let receiver = MockServer::start().await;
    Mock::given(method("POST")).and(path("/in")).respond_with(ResponseTemplate::new(204)).mount(&receiver).await;
    let hook = json!({"url": format!("{}/in", receiver.uri()), "event_types": ["flow.submission"]});
    app.post("/api/v1/webhook-endpoints", &t.token, hook).await.expect(201);
    let flow_json = json!({"version": "6.0", "screens": [{"id": "BOOK", "terminal": true}]});
    let flows = format!("/api/v1/accounts/{account}/flows");
    let flow = app.post(&flows, &t.token, json!({"name": "Site visit", "flow_json": flow_json})).await.expect(201);
    let fid = flow["id"].as_i64().unwrap();
    app.post(&format!("{flows}/{fid}/publish"), &t.token, json!({})).await.expect(200);

    sandbox_inbound(&app, &t.token, account, "+919876543210").await;
    let send = json!({"to": "+919876543210", "message": {"type": "interactive", "body": "Book a visit",
        "action": {"type": "flow", "flow_id": flow["provider_flow_id"], "flow_cta": "Book", "flow_token": "visit-42", "screen": "BOOK"}}});
    let sent =
        app.post(&format!("/api/v1/accounts/{account}/send_message?wait=true"), &t.token, send).await.expect(201);
    let wamid = sent["provider_message_id"].as_str().unwrap();

    // The nfm_reply shape from Meta's webhook reference: response_json is a JSON string.
    let reply = json!([{"context": {"from": "14155550100", "id": wamid}, "from": "919876543210", "id": "wamid.NFM1",
        "timestamp": chrono::Utc::now().timestamp().to_string(), "type": "interactive",
        "interactive": {"type": "nfm_reply", "nfm_reply": {
            "response_json": "{\"flow_token\":\"visit-42\",\"date\":\"2026-12-05\",\"people\":\"3\"}",
            "body": "Sent", "name": "flow"}}}]);
    let path = webhook_path(&app, &t.token, account).await;
    let secret = wabahub::providers::sandbox::SANDBOX_APP_SECRET;
    deliver_signed(
        &app,
        &path,
        secret,
        &inbound_body(reply, json!([{"wa_id": "919876543210", "profile": {"name": "Ravi"}}])),
    )
    .await;
    drained(&app, &t.token).await;

    let subs = app.get(&format!("/api/v1/flows/{fid}/submissions"), &t.token).await.expect(200);
    let s = &subs["data"][0];
    assert_eq!(subs["data"].as_array().unwrap().len(), 1, "{subs}");
    assert_eq!(s["flow_id"], fid);
    assert_eq!(s["account_id"], account);
    assert_eq!(s["phone"], "+919876543210");
    assert_eq!(s["flow_token"], "visit-42");
    assert_eq!(s["response"], json!({"flow_token": "visit-42", "date": "2026-12-05", "people": "3"}));
    let inbound = app.get(&format!("/api/v1/messages/{}", s["message_id"]), &t.token).await.expect(200);
    assert_eq!(inbound["provider_message_id"], "wamid.NFM1");
    assert_eq!(s["lead_id"], inbound["lead_id"]);
    assert!(s["lead_id"].is_i64());

    let requests = {
        let mut got = Vec::new();
        for _ in 0..300 {
            got = receiver.received_requests().await.unwrap();
            if !got.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        got
    };
    let event: Value = serde_json::from_slice(&requests.first().expect("relayed").body).unwrap();
    assert_eq!(event["type"], "flow.submission");
    assert_eq!(event["data"]["flow_id"], fid);
    assert_eq!(event["data"]["response"]["date"], "2026-12-05");

    let page = app.get(&format!("/api/v1/flows/{fid}/submissions?limit=1"), &t.token).await.expect(200);
    assert_eq!(page["next_cursor"], Value::Null);
    let other = app.signup("bob").await;
    app.get(&format!("/api/v1/flows/{fid}/submissions"), &other.token).await.problem(404, "not_found");
    app.get("/api/v1/flows/999999/submissions", &t.token).await.problem(404, "not_found");
}

fn status_with_pricing(wamid: &str, status: &str, category: &str, kind: &str) -> Value {
    json!({"id": wamid, "status": status, "timestamp": chrono::Utc::now().timestamp().to_string(), "recipient_id": "919876543210",
        "pricing": {"billable": kind == "regular", "pricing_model": "PMP", "type": kind, "category": category}})
}

fn statuses_body(items: Value) -> Value {
    json!({"object": "whatsapp_business_account", "entry": [{"id": "2222", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp", "metadata": {"phone_number_id": "1065"}, "statuses": items}}]}]})
}

#[actix_web::test]
async fn pricing_is_kept_and_billable_messages_are_counted_once_per_category() {
    let (app, _fake, t, account) = meta_app().await;
    meta_inbound(&app, &t.token, account, "+919876543210", 60).await;
    let url = format!("/api/v1/accounts/{account}/send_message?wait=true");
    let sent = app.post(&url, &t.token, text("+919876543210")).await.expect(201);
    let wamid = sent["provider_message_id"].as_str().unwrap();
    let path = webhook_path(&app, &t.token, account).await;
    // Meta reports pricing with `sent` and again with `delivered`; a status may also come twice.
    let sent_status = status_with_pricing(wamid, "sent", "utility", "regular");
    let delivered = status_with_pricing(wamid, "delivered", "utility", "regular");
    deliver_signed(&app, &path, META_SECRET, &statuses_body(json!([sent_status]))).await;
    deliver_signed(&app, &path, META_SECRET, &statuses_body(json!([delivered.clone()]))).await;
    deliver_signed(&app, &path, META_SECRET, &statuses_body(json!([delivered.clone(), delivered]))).await;
    drained(&app, &t.token).await;
    let m = app.get(&format!("/api/v1/messages/{}", sent["id"]), &t.token).await.expect(200);
    assert_eq!(m["status"], "delivered");
    assert_eq!(
        m["pricing"],
        json!({"category": "utility", "type": "regular", "pricing_model": "PMP", "billable": true})
    );

    let dash = app.get("/api/v1/analytics/dashboard", &t.token).await.expect(200);
    assert_eq!(dash["billable"], json!({"utility": 1}), "{dash}");
    let acc = app.get(&format!("/api/v1/accounts/{account}/analytics"), &t.token).await.expect(200);
    assert_eq!(acc["billable"], json!({"utility": 1}));
    let other = app.signup("bob").await;
    assert_eq!(app.get("/api/v1/analytics/dashboard", &other.token).await.expect(200)["billable"], json!({}));
}

#[actix_web::test]
async fn free_service_messages_are_priced_but_not_billable() {
    let (app, _fake, t, account) = meta_app().await;
    meta_inbound(&app, &t.token, account, "+919876543210", 60).await;
    let url = format!("/api/v1/accounts/{account}/send_message?wait=true");
    let sent = app.post(&url, &t.token, text("+919876543210")).await.expect(201);
    let path = webhook_path(&app, &t.token, account).await;
    let free = json!({"id": sent["provider_message_id"], "status": "sent", "timestamp": chrono::Utc::now().timestamp().to_string(),
        "pricing": {"pricing_model": "PMP", "type": "free_customer_service", "category": "service"}});
    deliver_signed(&app, &path, META_SECRET, &statuses_body(json!([free]))).await;
    drained(&app, &t.token).await;
    let m = app.get(&format!("/api/v1/messages/{}", sent["id"]), &t.token).await.expect(200);
    assert_eq!(m["pricing"]["billable"], false, "{m}");
    assert_eq!(m["pricing"]["type"], "free_customer_service");
    let dash = app.get(&format!("/api/v1/accounts/{account}/analytics"), &t.token).await.expect(200);
    assert_eq!(dash["billable"], json!({}));
}

#[actix_web::test]
async fn a_red_number_keeps_its_queue_waiting_until_quality_recovers() {
    let app = spawn_app().await;
    let t = app.signup("ann").await;
    let (account, phone) = sandbox_account(&app, &t.token).await;
    sandbox_inbound(&app, &t.token, account, "+919876543210").await;
    let path = webhook_path(&app, &t.token, account).await;
    let secret = wabahub::providers::sandbox::SANDBOX_APP_SECRET;
    let quality = |event: &str| {
        json!({"object": "whatsapp_business_account", "entry": [{"id": "2222", "changes": [
            {"field": "phone_number_quality_update", "value": {"display_phone_number": "14155550100", "event": event}}]}]})
    };
    deliver_signed(&app, &path, secret, &quality("FLAGGED")).await;
    drained(&app, &t.token).await;
    let url = format!("/api/v1/accounts/{account}/send_message");
    app.post(&url, &t.token, text("+919876543210")).await.problem(409, "ERR_QUALITY_DEGRADED");
    let logs = app.get(&format!("/api/v1/accounts/{account}/health-logs"), &t.token).await.expect(200);
    assert!(logs.to_string().contains("ERR_QUALITY_DEGRADED"), "{logs}");

    // A message queued before the rating dropped (e.g. a campaign's) waits instead of going out.
    let (db, tenant) = (app.state.db.clone(), t.id);
    let queued = actix_web::web::block(move || {
        let ts = wabahub::db::now();
        let new = wabahub::store::messages::NewMessage {
            tenant_id: tenant,
            account_id: account,
            phone_number_id: phone,
            direction: "outbound".into(),
            recipient: "+919876543210".into(),
            kind: "text".into(),
            payload: json!({"type": "text", "body": "queued earlier"}).to_string(),
            status: "queued".into(),
            next_attempt_at: ts,
            idempotency_key: None,
            idempotency_hash: None,
            campaign_id: None,
            template_name: None,
            created_at: ts,
            updated_at: ts,
        };
        match wabahub::store::messages::enqueue(&mut db.get().unwrap(), vec![new]).unwrap()[..] {
            [wabahub::store::messages::Enqueued::New(id)] => id,
            ref other => panic!("{other:?}"),
        }
    })
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let m = app.get(&format!("/api/v1/messages/{queued}"), &t.token).await.expect(200);
    assert_eq!(m["status"], "queued", "{m}");
    deliver_signed(&app, &path, secret, &quality("UNFLAGGED")).await;
    drained(&app, &t.token).await;
    assert_eq!(settle(&app, &t.token, queued).await["status"], "sent");
}

#[actix_web::test]
async fn a_message_delivered_after_its_window_gets_no_bot_reply() {
    let app = spawn_app().await;
    let t = app.signup("ann").await;
    let (account, _) = sandbox_account(&app, &t.token).await;
    let bot = json!({"bot_settings": {"enable_auto_reply": true, "greeting_message": "Welcome!", "fallback_message": "Soon."}});
    app.patch(&format!("/api/v1/accounts/{account}"), &t.token, bot).await.expect(200);
    let path = webhook_path(&app, &t.token, account).await;
    let old = (chrono::Utc::now().timestamp() - 25 * 3600).to_string();
    let late =
        json!([{"from": "919876543210", "id": "wamid.LATE", "timestamp": old, "type": "text", "text": {"body": "hi"}}]);
    deliver_signed(&app, &path, wabahub::providers::sandbox::SANDBOX_APP_SECRET, &inbound_body(late, json!([]))).await;
    drained(&app, &t.token).await;
    let outbound = app.get("/api/v1/messages?direction=outbound", &t.token).await.expect(200);
    assert_eq!(outbound["data"], json!([]), "no reply outside the window");
    sandbox_inbound(&app, &t.token, account, "+919876543210").await;
    let outbound = app.get("/api/v1/messages?direction=outbound", &t.token).await.expect(200);
    assert_eq!(outbound["data"][0]["message"]["body"], "Soon.", "{outbound}");
}

#[actix_web::test]
async fn the_sandbox_simulates_a_flow_completion() {
    let app = spawn_app().await;
    let t = app.signup("ann").await;
    let (account, _) = sandbox_account(&app, &t.token).await;
    let flows = format!("/api/v1/accounts/{account}/flows");
    let flow_json = json!({"version": "6.0", "screens": [{"id": "SIGN_UP", "terminal": true}]});
    let flow = app.post(&flows, &t.token, json!({"name": "Sign up", "flow_json": flow_json})).await.expect(201);
    let fid = flow["id"].as_i64().unwrap();
    app.post(&format!("{flows}/{fid}/publish"), &t.token, json!({})).await.expect(200);
    sandbox_inbound(&app, &t.token, account, "+919876543210").await;
    let send = json!({"to": "+919876543210", "message": {"type": "interactive", "body": "Sign up",
        "action": {"type": "flow", "flow_id": flow["provider_flow_id"], "flow_cta": "Start", "flow_token": "su-1"}}});
    let sent =
        app.post(&format!("/api/v1/accounts/{account}/send_message?wait=true"), &t.token, send).await.expect(201);

    let sim = format!("/api/v1/accounts/{account}/sandbox/inbound");
    let response = json!({"flow_token": "su-1", "email": "ravi@example.com"});
    let both = json!({"from": "+919876543210", "text": "x", "flow_response": response});
    app.post(&sim, &t.token, both).await.problem(422, "validation_failed");
    let neither = json!({"from": "+919876543210"});
    app.post(&sim, &t.token, neither).await.problem(422, "validation_failed");
    let unknown = json!({"from": "+919876543210", "flow_response": response, "reply_to": 999999});
    let e = app.post(&sim, &t.token, unknown).await.problem(422, "validation_failed");
    assert_eq!(e["errors"]["reply_to"], json!(["not_found"]));

    let done = json!({"from": "+919876543210", "flow_response": response, "reply_to": sent["id"]});
    let m = app.post(&sim, &t.token, done).await.expect(201);
    assert_eq!(m["message"]["interactive"]["type"], "nfm_reply");
    let subs = app.get(&format!("/api/v1/flows/{fid}/submissions"), &t.token).await.expect(200);
    assert_eq!(subs["data"][0]["response"], response, "{subs}");
    assert_eq!(subs["data"][0]["message_id"], m["id"]);
}
