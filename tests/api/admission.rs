//! Admission to the outbox: every rule through every sender — the API (a 4xx problem with its
//! code), the campaign runner (a skip reason, a halt, or recipients left pending), bot replies
//! (not sent) and CTA brochures (a note that says why) — and Idempotency-Key repeats.

use serde_json::{Value, json};
use wabahub::domain::TenantId;
use wabahub::domain::cta::CtaAction;

use crate::campaigns::{campaign_body, opt_out, tata_account_with_template, with_approved};
use crate::helpers::*;
use crate::inbox::{drained, inbound_body, sandbox_inbound, webhook_path};
use crate::messages::sandbox_account;

/// Runs SQL statements on the app's database.
async fn sql(app: &TestApp, statements: &[String]) {
    let (db, statements) = (app.state.db.clone(), statements.to_vec());
    actix_web::web::block(move || {
        use diesel::RunQueryDsl;
        let mut c = db.get().unwrap();
        for s in statements {
            diesel::sql_query(s).execute(&mut *c).unwrap();
        }
    })
    .await
    .unwrap();
}

async fn outbound_to(app: &TestApp, token: &str, to: &str) -> Vec<Value> {
    let path = format!("/api/v1/messages?direction=outbound&recipient={}", to.replace('+', "%2B"));
    app.get(&path, token).await.expect(200)["data"].as_array().unwrap().clone()
}

/// A state of the world that breaks one rule, and how to undo it.
struct Broken {
    rule: &'static str,
    set: Vec<String>,
    undo: Vec<String>,
}

/// The rules that hold for a whole account or tenant, each broken by SQL and undone after.
fn broken_states(tenant: i64, account: i64) -> Vec<Broken> {
    let b = |rule, set: &str, undo: &str| Broken { rule, set: vec![set.to_string()], undo: vec![undo.to_string()] };
    vec![
        b(
            "account_needs_reauth",
            &format!("UPDATE accounts SET status = 'needs_reauth' WHERE id = {account}"),
            &format!("UPDATE accounts SET status = 'active' WHERE id = {account}"),
        ),
        b(
            "account_not_active",
            &format!("UPDATE accounts SET status = 'suspended' WHERE id = {account}"),
            &format!("UPDATE accounts SET status = 'active' WHERE id = {account}"),
        ),
        b(
            "ERR_QUALITY_DEGRADED",
            &format!("UPDATE phone_numbers SET quality_rating = 'RED' WHERE account_id = {account}"),
            &format!("UPDATE phone_numbers SET quality_rating = 'GREEN' WHERE account_id = {account}"),
        ),
        b(
            "tenant_quota",
            &format!("UPDATE tenants SET daily_message_quota = 0 WHERE id = {tenant}"),
            &format!("UPDATE tenants SET daily_message_quota = NULL WHERE id = {tenant}"),
        ),
        b(
            "account_limit_reached",
            &format!("UPDATE accounts SET limit_per_month = 0 WHERE id = {account}"),
            &format!("UPDATE accounts SET limit_per_month = NULL WHERE id = {account}"),
        ),
    ]
}

#[actix_web::test]
async fn the_api_refuses_each_rule_with_its_code_and_queues_nothing() {
    let app = spawn_app_with(|s| s.outbox_enabled = false).await;
    let t = app.signup("ann").await;
    let (account, _) = sandbox_account(&app, &t.token).await;
    with_approved(&app, t.id, account).await;
    let url = format!("/api/v1/accounts/{account}/send_message");
    let text = |to: &str| json!({"to": to, "message": {"type": "text", "body": "hello"}});
    let template = |params: usize| {
        let body: Vec<Value> = (0..params).map(|i| json!({"text": format!("p{i}")})).collect();
        json!({"to": "+919876500001", "message": {"type": "template", "name": "ivr_follow_up", "language": "en", "components": {"body": body}}})
    };
    sandbox_inbound(&app, &t.token, account, "+919876500001").await;
    app.post(&url, &t.token, text("+919876500001")).await.expect(202);
    for b in broken_states(t.id, account) {
        sql(&app, &b.set).await;
        let (status, code) = match b.rule {
            "tenant_quota" => (429, "rate_limited"),
            "account_limit_reached" => (429, "account_limit_reached"),
            other => (409, other),
        };
        let res = app.post(&url, &t.token, template(3)).await;
        if status == 429 {
            assert!(res.headers.get("retry-after").is_some(), "{}", b.rule);
        }
        res.problem(status, code);
        sql(&app, &b.undo).await;
    }
    let e = app.post(&url, &t.token, template(1)).await.problem(422, "validation_failed");
    assert_eq!(e["errors"]["message.template.components"], json!(["expected_3_body_parameters"]));
    let mut other = template(3);
    other["message"]["name"] = json!("not_there");
    app.post(&url, &t.token, other).await.problem(422, "template_not_ready");
    opt_out(&app, t.id, "+919876500002").await;
    app.post(&url, &t.token, text("+919876500002")).await.problem(409, "recipient_opted_out");
    app.post(&url, &t.token, text("+919876500003")).await.problem(422, "outside_service_window");
    assert_eq!(
        app.get("/api/v1/messages?direction=outbound", &t.token).await.expect(200)["data"].as_array().unwrap().len(),
        1
    );
    app.post(&url, &t.token, template(3)).await.expect(202);
}

#[actix_web::test]
async fn tata_refuses_button_variables_before_queueing() {
    let app = spawn_app_with(|s| s.outbox_enabled = false).await;
    let t = app.signup("tia").await;
    let account = tata_account_with_template(&app, &t).await;
    let body = json!({"account_id": account, "to": "+919876500001", "message": {"type": "template", "name": "ivr_follow_up", "language": "en",
        "components": {"body": [{"text": "a"}, {"text": "b"}, {"text": "c"}], "buttons": [{"sub_type": "url", "index": 0, "value": "x"}]}}});
    let e = app.post("/api/v1/messages", &t.token, body).await.problem(422, "validation_failed");
    assert_eq!(e["errors"]["message.template.components"], json!(["ERR_BUTTON_VARIABLES_UNSUPPORTED"]));
}

/// Sends with an Idempotency-Key; returns (status, body).
async fn keyed(app: &TestApp, token: &str, path: &str, key: &str, body: &Value) -> (u16, Value) {
    let res = app
        .client
        .post(app.url(path))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(body)
        .send()
        .await
        .unwrap();
    let res = TestApp::read(res).await;
    (res.status.as_u16(), res.body)
}

#[actix_web::test]
async fn an_idempotency_key_reused_for_another_request_is_refused() {
    let app = spawn_app_with(|s| s.outbox_enabled = false).await;
    let t = app.signup("ann").await;
    let (account, _) = sandbox_account(&app, &t.token).await;
    sandbox_inbound(&app, &t.token, account, "+919876543210").await;
    let path = format!("/api/v1/accounts/{account}/send_message");
    let hello = json!({"to": "+919876543210", "message": {"type": "text", "body": "hello"}});
    let (status, first) = keyed(&app, &t.token, &path, "order-42", &hello).await;
    assert_eq!(status, 202);
    let bye = json!({"to": "+919876543210", "message": {"type": "text", "body": "bye"}});
    let (status, e) = keyed(&app, &t.token, &path, "order-42", &bye).await;
    assert_eq!((status, e["code"].as_str()), (422, Some("idempotency_key_reused")), "{e}");
    let (status, again) = keyed(&app, &t.token, &path, "order-42", &hello).await;
    assert_eq!((status, &again["id"]), (200, &first["id"]));
    // The same request through the other route, with the number spelled otherwise, is the same.
    let same = json!({"account_id": account, "to": "+91 98765 43210", "message": {"type": "text", "body": "hello"}});
    let (status, via) = keyed(&app, &t.token, "/api/v1/messages", "order-42", &same).await;
    assert_eq!((status, &via["id"]), (200, &first["id"]));
    assert_eq!(outbound_to(&app, &t.token, "+919876543210").await.len(), 1);
}

#[actix_web::test]
async fn concurrent_requests_with_one_key_all_answer_with_the_first_message() {
    let app = spawn_app_with(|s| s.db_pool_size = 12).await;
    let t = app.signup("ann").await;
    let (account, _) = sandbox_account(&app, &t.token).await;
    sandbox_inbound(&app, &t.token, account, "+919876543210").await;
    let body = json!({"account_id": account, "to": "+919876543210", "message": {"type": "text", "body": "once"}});
    let answers =
        futures_util::future::join_all((0..10).map(|_| keyed(&app, &t.token, "/api/v1/messages", "race-1", &body)))
            .await;
    let statuses: Vec<u16> = answers.iter().map(|(s, _)| *s).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 202).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 202 || *s == 200), "{statuses:?}");
    let ids: std::collections::HashSet<String> = answers.iter().map(|(_, b)| b["id"].to_string()).collect();
    assert_eq!(ids.len(), 1, "{answers:?}");
    assert_eq!(outbound_to(&app, &t.token, "+919876543210").await.len(), 1);
}

/// A sandbox account with an approved template, and a started campaign to `numbers` whose
/// recipients wait (the runner does not run here). Returns (tenant, account, campaign).
async fn started_campaign(app: &TestApp, numbers: &[&str]) -> (Tenant, i64, i64) {
    let t = app.signup("cam").await;
    let (account, _) = sandbox_account(app, &t.token).await;
    with_approved(app, t.id, account).await;
    let body = campaign_body(account, json!({"test_numbers": numbers}));
    let id = app.post("/api/v1/campaigns", &t.token, body).await.expect(201)["id"].as_i64().unwrap();
    app.post(&format!("/api/v1/campaigns/{id}/start"), &t.token, json!({})).await.expect(200);
    (t, account, id)
}

/// One hand-over of up to 500 recipients, as the runner does it.
async fn hand_over(app: &TestApp, tenant: i64, campaign: i64) -> wabahub::campaigns::runner::Batch {
    let db = app.state.db.clone();
    actix_web::web::block(move || {
        let mut c = db.get().unwrap();
        let row = wabahub::store::campaigns::get(&mut c, TenantId(tenant), campaign).unwrap().unwrap();
        wabahub::campaigns::runner::hand_over(&mut c, &row, 500, true).unwrap()
    })
    .await
    .unwrap()
}

#[actix_web::test]
async fn the_runner_skips_recipients_refused_for_themselves() {
    let app = spawn_app_with(|s| s.outbox_enabled = false).await;
    let numbers = ["+919876500011", "+919876500012", "+919876500013"];
    let (t, account, id) = started_campaign(&app, &numbers).await;
    opt_out(&app, t.id, numbers[0]).await;
    // An API send took the key the campaign would give its message to the second number.
    sandbox_inbound(&app, &t.token, account, numbers[1]).await;
    let taken = json!({"to": numbers[1], "message": {"type": "text", "body": "earlier"}});
    let path = format!("/api/v1/accounts/{account}/send_message");
    let (status, _) = keyed(&app, &t.token, &path, &format!("campaign:{id}:{}", numbers[1]), &taken).await;
    assert_eq!(status, 202);
    let batch = hand_over(&app, t.id, id).await;
    assert_eq!((batch.queued, batch.skipped, batch.deferred), (1, 2, 0));
    let c = app.get(&format!("/api/v1/campaigns/{id}"), &t.token).await.expect(200);
    assert_eq!(c["progress"]["skipped_by_reason"], json!({"idempotency_key_reused": 1, "opted_out": 1}), "{c}");
    assert_eq!(outbound_to(&app, &t.token, numbers[2]).await[0]["campaign_id"], id);
}

#[actix_web::test]
async fn the_runner_halts_on_origin_refusals_and_waits_out_quotas() {
    let app = spawn_app_with(|s| s.outbox_enabled = false).await;
    let numbers = ["+919876500021", "+919876500022"];
    let (t, account, id) = started_campaign(&app, &numbers).await;
    let recipients = |status: &'static str| {
        let (app, token) = (&app, t.token.clone());
        async move {
            let page = app.get(&format!("/api/v1/campaigns/{id}/recipients?status={status}"), &token).await;
            page.expect(200)["data"].as_array().unwrap().len()
        }
    };
    for b in broken_states(t.id, account).into_iter().filter(|b| b.rule.starts_with("tenant")) {
        sql(&app, &b.set).await;
        let batch = hand_over(&app, t.id, id).await;
        assert_eq!((batch.queued, batch.skipped, batch.deferred), (0, 0, 2), "{}", b.rule);
        assert_eq!(recipients("pending").await, 2);
        sql(&app, &b.undo).await;
    }
    let stop = [
        ("account_needs_reauth", format!("UPDATE accounts SET status = 'needs_reauth' WHERE id = {account}")),
        (
            "ERR_QUALITY_DEGRADED",
            format!("UPDATE phone_numbers SET quality_rating = 'RED' WHERE account_id = {account}"),
        ),
        ("ERR_TEMPLATE_NOT_READY", format!("UPDATE templates SET status = 'PAUSED' WHERE account_id = {account}")),
    ];
    for (reason, set) in stop {
        sql(&app, &[set]).await;
        let batch = hand_over(&app, t.id, id).await;
        assert_eq!((batch.queued, batch.skipped), (0, 0), "{reason}");
        let c = app.get(&format!("/api/v1/campaigns/{id}"), &t.token).await.expect(200);
        assert_eq!((c["status"].as_str(), c["halt_reason"].as_str()), (Some("halted"), Some(reason)), "{c}");
        assert_eq!(recipients("pending").await, 2);
        sql(
            &app,
            &[
                format!("UPDATE accounts SET status = 'active' WHERE id = {account}"),
                format!("UPDATE phone_numbers SET quality_rating = 'GREEN' WHERE account_id = {account}"),
                format!("UPDATE templates SET status = 'APPROVED' WHERE account_id = {account}"),
            ],
        )
        .await;
        app.post(&format!("/api/v1/campaigns/{id}/resume"), &t.token, json!({})).await.expect(200);
    }
    // The account's month limit lets one through and keeps the other waiting.
    sql(&app, &[format!("UPDATE accounts SET limit_per_month = 1 WHERE id = {account}")]).await;
    let batch = hand_over(&app, t.id, id).await;
    assert_eq!((batch.queued, batch.skipped, batch.deferred), (1, 0, 1));
    assert_eq!((recipients("pending").await, recipients("queued").await), (1, 1));
}

/// Turns the sandbox account's automatic replies on ("Soon." to everything).
async fn bot_on(app: &TestApp, token: &str, account: i64) {
    let bot = json!({"bot_settings": {"enable_auto_reply": true, "fallback_message": "Soon."}});
    app.patch(&format!("/api/v1/accounts/{account}"), token, bot).await.expect(200);
}

/// `from` writes `text` to the sandbox account by a signed webhook; waits until it is applied.
async fn writes(app: &TestApp, token: &str, account: i64, from: &str, text: &str) {
    let now = chrono::Utc::now();
    let digits = from.trim_start_matches('+');
    let m = json!([{"from": digits, "id": format!("wamid.{digits}.{}", now.timestamp_nanos_opt().unwrap()),
        "timestamp": now.timestamp().to_string(), "type": "text", "text": {"body": text}}]);
    let path = webhook_path(app, token, account).await;
    let secret = wabahub::providers::sandbox::SANDBOX_APP_SECRET;
    crate::webhooks::deliver_signed(app, &path, secret, &inbound_body(m, json!([]))).await;
    drained(app, token).await;
}

#[actix_web::test]
async fn bot_replies_go_through_admission() {
    let app = spawn_app_with(|s| s.outbox_enabled = false).await;
    let t = app.signup("bo").await;
    let (account, _) = sandbox_account(&app, &t.token).await;
    bot_on(&app, &t.token, account).await;
    for (i, b) in broken_states(t.id, account).into_iter().enumerate() {
        let from = format!("+9198765001{i:02}");
        sql(&app, &b.set).await;
        writes(&app, &t.token, account, &from, "hi").await;
        assert!(outbound_to(&app, &t.token, &from).await.is_empty(), "{}", b.rule);
        sql(&app, &b.undo).await;
    }
    opt_out(&app, t.id, "+919876500120").await;
    writes(&app, &t.token, account, "+919876500120", "hi").await;
    assert!(outbound_to(&app, &t.token, "+919876500120").await.is_empty(), "opted out");
    // Waived: the opt-out's own acknowledgement reaches the number that just opted out.
    writes(&app, &t.token, account, "+919876500121", "STOP").await;
    let ack = outbound_to(&app, &t.token, "+919876500121").await;
    assert_eq!(ack[0]["message"]["body"], wabahub::webhooks::bot::OPT_OUT_ACK);
    writes(&app, &t.token, account, "+919876500122", "hi").await;
    assert_eq!(outbound_to(&app, &t.token, "+919876500122").await[0]["message"]["body"], "Soon.");
}

async fn lead_notes(app: &TestApp, token: &str, lead: i64) -> Vec<String> {
    let list = app.get(&format!("/api/v1/leads/{lead}/notes"), token).await.expect(200);
    list["data"].as_array().unwrap().iter().map(|n| n["text"].as_str().unwrap().to_string()).collect()
}

/// A tenant's sandbox account and a project with a brochure, for CTA clicks.
struct Cta<'a> {
    app: &'a TestApp,
    token: &'a str,
    account: i64,
    project: i64,
}

impl Cta<'_> {
    /// A new lead `+9198765002NN` of the project (who wrote first, when `wrote`) clicks
    /// "Interested" while `set` holds; returns the newest note and how many messages went to them.
    async fn click(&self, n: usize, wrote: bool, set: &[String], undo: &[String]) -> (String, usize) {
        let phone = format!("+9198765002{n:02}");
        let body = json!({"phone": phone, "project_id": self.project});
        let lead = self.app.post("/api/v1/leads", self.token, body).await.expect(201)["id"].as_i64().unwrap();
        if wrote {
            sandbox_inbound(self.app, self.token, self.account, &phone).await;
        }
        sql(self.app, set).await;
        let now = chrono::Utc::now().timestamp();
        let url = self.app.state.cta.link_for(&self.app.base, lead, CtaAction::Interested, None, now);
        assert_eq!(self.app.client.get(url).send().await.unwrap().status(), 200);
        sql(self.app, undo).await;
        let notes = lead_notes(self.app, self.token, lead).await;
        (notes[0].clone(), outbound_to(self.app, self.token, &phone).await.len())
    }
}

#[actix_web::test]
async fn cta_brochures_go_through_admission_and_notes_say_why() {
    let app = spawn_app_with(|s| s.outbox_enabled = false).await;
    let t = app.signup("cy").await;
    let (account, _) = sandbox_account(&app, &t.token).await;
    let project = crate::leads::project(&app, t.id, "Green Acres", Some("https://cdn.example.com/b.pdf")).await;
    let cta = Cta { app: &app, token: &t.token, account, project };
    for (n, b) in broken_states(t.id, account).into_iter().enumerate() {
        let (note, sent) = cta.click(n, true, &b.set, &b.undo).await;
        let why = match b.rule {
            "account_needs_reauth" | "account_not_active" => "no active account with a phone number to send from",
            "ERR_QUALITY_DEGRADED" => "the number's quality rating is RED",
            "tenant_quota" => "the tenant's daily quota of 0 messages is used up",
            _ => "the account's limit of 0 messages per month is reached",
        };
        assert!(note.starts_with("Brochure not sent: ") && note.contains(why), "{}: {note}", b.rule);
        assert_eq!(sent, 0, "{}", b.rule);
    }
    let (note, sent) = cta.click(10, false, &[], &[]).await;
    assert!(note.contains("has not written to this account in the last 24 hours"), "{note}");
    assert_eq!(sent, 0);
    let opted = format!(
        "INSERT INTO opt_outs (tenant_id, phone, source, created_at) VALUES ({}, '+919876500211', 'api', CURRENT_TIMESTAMP)",
        t.id
    );
    let (note, sent) = cta.click(11, true, &[opted], &[]).await;
    assert_eq!((note.as_str(), sent), ("Brochure not sent: the recipient opted out of messages from this tenant.", 0));
    let (note, sent) = cta.click(12, true, &[], &[]).await;
    assert!(note.starts_with("Brochure queued as message"), "{note}");
    assert_eq!(sent, 1);
}
