//! Campaigns end to end: IVR calls in → preview (dry run) → start → sandbox status webhooks →
//! results; validation, idempotency on resume and re-run, pause/resume/cancel, halting, exports.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{NaiveDateTime, Utc};
use diesel::prelude::*;
use serde_json::{Value, json};
use wabahub::db::schema::{project_ivr_numbers, projects};
use wabahub::domain::TenantId;
use wabahub::store::ivr_calls::NewCall;

use crate::helpers::*;
use crate::messages::sandbox_account;

/// The campaign template: three body parameters (name, project, link or call status).
pub fn promo_template() -> Value {
    json!({
        "name": "ivr_follow_up", "language": "en", "category": "MARKETING",
        "components": [{"type": "BODY", "text": "Hi {{1}}, thanks for calling {{2}}. See {{3}} now.",
            "example": {"body_text": [["Ann", "Palm Grove", "https://x.example"]]}}]
    })
}

/// Creates, submits and syncs a template until the sandbox approves it.
pub async fn approved(app: &TestApp, token: &str, account: i64, body: Value) -> i64 {
    let t = app.post(&format!("/api/v1/accounts/{account}/templates"), token, body).await.expect(201);
    let id = t["id"].as_i64().unwrap();
    app.post(&format!("/api/v1/accounts/{account}/templates/{id}/submit"), token, json!({})).await.expect(200);
    for _ in 0..80 {
        app.post(&format!("/api/v1/accounts/{account}/templates/sync"), token, json!({})).await.expect(200);
        let t = app.get(&format!("/api/v1/accounts/{account}/templates/{id}"), token).await.expect(200);
        if t["status"] == "APPROVED" {
            return id;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the sandbox never approved the template");
}

/// A project owning one IVR number; returns its id.
pub fn seed_project(conn: &mut wabahub::db::DbConn, tenant: i64, name: &str, ivr: &str) -> i64 {
    let now = wabahub::db::now();
    let id: i64 = diesel::insert_into(projects::table)
        .values((
            projects::tenant_id.eq(tenant),
            projects::name.eq(name),
            projects::deep_link_base_url
                .eq(Some(format!("https://{}.example/app", name.to_lowercase().replace(' ', "-")))),
            projects::created_at.eq(now),
            projects::updated_at.eq(now),
        ))
        .returning(projects::id)
        .get_result(conn)
        .unwrap();
    diesel::insert_into(project_ivr_numbers::table)
        .values((
            project_ivr_numbers::tenant_id.eq(tenant),
            project_ivr_numbers::project_id.eq(id),
            project_ivr_numbers::number.eq(ivr),
        ))
        .execute(conn)
        .unwrap();
    id
}

/// One IVR call as the lead's ingestion stores it (`caller` raw; valid when it parses).
pub fn call(caller: &str, to: &str, duration: i64, at: NaiveDateTime) -> NewCall {
    let parsed = wabahub::domain::PhoneNumber::parse_national(caller, "91");
    NewCall {
        caller_id_number: parsed.as_ref().map(|p| p.as_str().to_string()).unwrap_or_else(|_| caller.to_string()),
        caller_valid: parsed.is_ok(),
        call_to_number: to.into(),
        duration,
        start_stamp: at,
    }
}

/// Creates the project (with IVR number `+918000000001`) and posts the calls through the API.
pub async fn seed(app: &TestApp, token: &str, calls: &[(&str, i64, NaiveDateTime)]) -> i64 {
    let project = app
        .post(
            "/api/v1/projects",
            token,
            json!({"name": "Palm Grove", "deep_link_base_url": "https://palm-grove.example/app", "ivr_numbers": ["+918000000001"]}),
        )
        .await
        .expect(201);
    let calls: Vec<Value> = calls
        .iter()
        .map(|(caller, duration, at)| {
            json!({"caller_id_number": caller, "call_to_number": "8000000001", "duration": duration,
                "start_stamp": at.and_utc().to_rfc3339()})
        })
        .collect();
    app.post("/api/v1/ivr-calls/batch", token, json!({ "calls": calls })).await.expect(200);
    project["id"].as_i64().unwrap()
}

fn ago(hours: i64) -> NaiveDateTime {
    (Utc::now() - chrono::Duration::hours(hours)).naive_utc()
}

fn today(offset_days: i64) -> String {
    (Utc::now().date_naive() + chrono::Duration::days(offset_days)).to_string()
}

/// A campaign body over the last five days of IVR calls.
pub fn campaign_body(account: i64, audience: Value) -> Value {
    let mut a = json!({"source": "ivr_calls", "from_date": today(-5), "to_date": today(0)});
    for (k, v) in audience.as_object().unwrap() {
        a[k] = v.clone();
    }
    json!({"name": "Follow-up", "account_id": account, "template": {"name": "ivr_follow_up", "language": "en"},
        "rate_mps": 50, "variables": [{"source": "lead_name"}, {"source": "project_name"}, {"source": "call_status"}],
        "audience": a})
}

/// A campaign's preview asked for as `text/csv`.
pub async fn preview_csv(app: &TestApp, token: &str, id: i64) -> reqwest::Response {
    let url = app.url(&format!("/api/v1/campaigns/{id}/preview"));
    app.client.post(url).bearer_auth(token).header("accept", "text/csv").send().await.unwrap()
}

/// Polls a campaign until `done` holds (or 20 s pass).
pub async fn wait_for(app: &TestApp, token: &str, id: i64, done: impl Fn(&Value) -> bool) -> Value {
    for _ in 0..400 {
        let c = app.get(&format!("/api/v1/campaigns/{id}"), token).await.expect(200);
        if done(&c) {
            return c;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let c = app.get(&format!("/api/v1/campaigns/{id}"), token).await.expect(200);
    panic!("campaign {id} did not get there: {c}");
}

async fn messages_of(app: &TestApp, token: &str, campaign: i64) -> Vec<Value> {
    let page = app.get(&format!("/api/v1/messages?campaign_id={campaign}&limit=500"), token).await.expect(200);
    page["data"].as_array().unwrap().clone()
}

/// Adds `phone` to the tenant's opt-out list.
pub async fn opt_out(app: &TestApp, tenant: i64, phone: &str) {
    let (db, phone) = (app.state.db.clone(), phone.to_string());
    actix_web::web::block(move || {
        wabahub::store::opt_outs::add(&mut db.get().unwrap(), TenantId(tenant), &phone, "api", None).unwrap()
    })
    .await
    .unwrap();
}

#[actix_web::test]
async fn ivr_calls_to_preview_to_start_to_delivered_results() {
    let app = spawn_app().await;
    let t = app.signup("ann").await;
    let (account, _) = sandbox_account(&app, &t.token).await;
    approved(&app, &t.token, account, promo_template()).await;
    let calls = [
        ("9876500001", 30, ago(3)),
        ("9876500002", 0, ago(4)),
        ("9876500002", 45, ago(2)),       // the latest call wins: answered
        ("12345", 10, ago(5)),            // not a valid number
        ("9876500003", 0, ago(6)),        // opted out
        ("9876500004", 20, ago(24 * 10)), // outside the date range
        ("9876501026", 0, ago(1)),        // the sandbox fails it after sending
    ];
    let project = seed(&app, &t.token, &calls).await;
    opt_out(&app, t.id, "+919876500003").await;

    let c = app.post("/api/v1/campaigns", &t.token, campaign_body(account, json!({}))).await.expect(201);
    let id = c["id"].as_i64().unwrap();
    assert_eq!(c["status"], "draft");
    assert_eq!(c["rate_mps"], 50.0);

    // Dry run: counts, exclusions, rendered messages, CSV; nothing stored or sent.
    let p = app.post(&format!("/api/v1/campaigns/{id}/preview?samples=10"), &t.token, json!({})).await.expect(200);
    assert_eq!(p["eligible"], 3, "{p}");
    assert_eq!(p["excluded"], json!({"duplicate": 1, "invalid_number": 1, "opted_out": 1}), "{p}");
    let groups: Vec<(Value, Value, Value)> = p["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["project_id"].clone(), g["call_status"].clone(), g["count"].clone()))
        .collect();
    assert_eq!(groups, [(json!(project), json!("answered"), json!(2)), (json!(project), json!("missed"), json!(1))]);
    let first = &p["samples"][0];
    assert_eq!(first["to"], "+91******1026");
    assert_eq!(first["message"]["type"], "template");
    assert_eq!(first["message"]["name"], "ivr_follow_up");
    let texts: Vec<&str> = first["message"]["components"]["body"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["Customer", "Palm Grove", "Missed Call"]);
    assert_eq!(p["samples"][1]["message"]["components"]["body"][2]["text"], "Answered");
    let csv = preview_csv(&app, &t.token, id).await;
    assert!(csv.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
    let csv = csv.text().await.unwrap();
    assert!(csv.starts_with("phone,lead_id,project,call_status,outcome,variables\n"), "{csv}");
    assert!(csv.contains("+91******0002") && csv.contains("opted_out") && !csv.contains("9876500002"), "{csv}");
    assert_eq!(csv.lines().count(), 5, "{csv}");
    let still = app.get(&format!("/api/v1/campaigns/{id}"), &t.token).await.expect(200);
    assert_eq!(still["status"], "draft");
    assert!(messages_of(&app, &t.token, id).await.is_empty());

    // Start, and let the sandbox's status webhooks come back.
    let started = app.post(&format!("/api/v1/campaigns/{id}/start"), &t.token, json!({})).await.expect(200);
    assert_eq!(started["status"], "running");
    app.post(&format!("/api/v1/campaigns/{id}/start"), &t.token, json!({})).await.problem(409, "campaign_not_draft");
    let done = wait_for(&app, &t.token, id, |c| {
        c["status"] == "completed" && c["progress"]["read"] == 2 && c["progress"]["failed"] == 1
    })
    .await;
    let p = &done["progress"];
    assert_eq!(p["recipients"], 4, "{p}");
    assert_eq!(p["skipped_by_reason"], json!({"opted_out": 1}));
    assert_eq!(p["failed_by_reason"], json!({"ERR_DELIVERY_FAILED": 1}), "{p}");
    assert_eq!(p["excluded"]["invalid_number"], 1);
    assert_eq!(p["delivery_rate"], 2.0 / 3.0);
    let sent = messages_of(&app, &t.token, id).await;
    assert_eq!(sent.len(), 3);
    assert!(sent.iter().all(|m| m["campaign_id"] == id && m["kind"] == "template"));

    // Results: filtered, JSON and CSV, masked unless an admin asks for full numbers.
    let read = app.get(&format!("/api/v1/campaigns/{id}/recipients?status=read"), &t.token).await.expect(200);
    assert_eq!(read["data"].as_array().unwrap().len(), 2);
    assert!(read["data"][0]["phone"].as_str().unwrap().contains("******"));
    let full = app.get(&format!("/api/v1/campaigns/{id}/recipients?format=csv&full_numbers=true"), &t.token).await;
    assert!(full.text.contains("+919876500001") && full.text.contains("skipped,opted_out"), "{}", full.text);
    let masked = app.get(&format!("/api/v1/campaigns/{id}/recipients?format=csv"), &t.token).await;
    assert!(masked.text.contains("+91******0001") && !masked.text.contains("+919876500001"));
    app.post(
        "/api/v1/users",
        &t.token,
        json!({"email": "mem@example.com", "name": "Mem", "role": "member", "password": "memberpass"}),
    )
    .await
    .expect(201);
    let member = app.login("mem@example.com", "memberpass").await;
    app.get(&format!("/api/v1/campaigns/{id}/recipients?format=csv&full_numbers=true"), &member)
        .await
        .problem(403, "insufficient_role");
    app.get(&format!("/api/v1/campaigns/{id}/recipients?format=csv"), &member).await.expect(200);

    // The same definition again messages nobody who already got it (the failed one is retried).
    let again = app.post("/api/v1/campaigns", &t.token, campaign_body(account, json!({}))).await.expect(201);
    let again = again["id"].as_i64().unwrap();
    let p = app.post(&format!("/api/v1/campaigns/{again}/preview"), &t.token, json!({})).await.expect(200);
    assert_eq!(p["excluded"]["already_sent"], 2, "{p}");
    app.post(&format!("/api/v1/campaigns/{again}/start"), &t.token, json!({})).await.expect(200);
    let done = wait_for(&app, &t.token, again, |c| c["status"] == "completed").await;
    assert_eq!(done["progress"]["skipped_by_reason"]["already_sent"], 2, "{done}");
    let resent = messages_of(&app, &t.token, again).await;
    assert_eq!(resent.len(), 1);
    assert_eq!(resent[0]["recipient"], "+919876501026");
}

#[actix_web::test]
async fn bad_definitions_are_refused_and_unapproved_templates_do_not_start() {
    let app = spawn_app().await;
    let t = app.signup("ann").await;
    let (account, _) = sandbox_account(&app, &t.token).await;
    let long = json!({"from_date": today(-90), "to_date": today(0)});
    let e =
        app.post("/api/v1/campaigns", &t.token, campaign_body(account, long)).await.problem(422, "validation_failed");
    assert_eq!(e["errors"]["audience.to_date"], json!(["range_over_90_days"]), "{e}");
    for limit in [0, 100_001] {
        let e = app
            .post("/api/v1/campaigns", &t.token, campaign_body(account, json!({"limit": limit})))
            .await
            .problem(422, "validation_failed");
        assert!(e["errors"]["audience.limit"].is_array(), "{e}");
    }
    let bad = json!({"test_numbers": ["+91123"]});
    let e =
        app.post("/api/v1/campaigns", &t.token, campaign_body(account, bad)).await.problem(422, "validation_failed");
    assert_eq!(e["errors"]["audience.test_numbers"], json!(["invalid_test_number"]), "{e}");
    let too_fast = {
        let mut b = campaign_body(account, json!({}));
        b["rate_mps"] = json!(500);
        b
    };
    let e = app.post("/api/v1/campaigns", &t.token, too_fast).await.problem(422, "validation_failed");
    assert_eq!(e["errors"]["rate_mps"], json!(["exceeds_number_throughput"]));
    let e = app
        .post("/api/v1/campaigns", &t.token, campaign_body(account, json!({"projects": [999]})))
        .await
        .problem(422, "validation_failed");
    assert!(e["errors"]["audience.projects"].is_array());
    let mut no_rate = campaign_body(account, json!({}));
    no_rate.as_object_mut().unwrap().remove("rate_mps");
    let c = app.post("/api/v1/campaigns", &t.token, no_rate).await.expect(201);
    assert_eq!(c["rate_mps"], 0.8);
    let list = app.get("/api/v1/campaigns", &t.token).await.expect(200);
    assert_eq!(list["data"].as_array().unwrap().len(), 1, "refused definitions were stored: {list}");

    // The template exists but is not approved: the campaign does not start.
    app.post(&format!("/api/v1/accounts/{account}/templates"), &t.token, promo_template()).await.expect(201);
    let id = c["id"].as_i64().unwrap();
    let e = app
        .post(&format!("/api/v1/campaigns/{id}/start"), &t.token, json!({}))
        .await
        .problem(422, "template_not_ready");
    assert!(e["detail"].as_str().unwrap().contains("ERR_TEMPLATE_NOT_READY"));
    let c = app.get(&format!("/api/v1/campaigns/{id}"), &t.token).await.expect(200);
    assert_eq!(c["status"], "draft");
    let r = app.get(&format!("/api/v1/campaigns/{id}/recipients"), &t.token).await.expect(200);
    assert_eq!(r["data"], json!([]));
}

#[actix_web::test]
async fn pause_resume_and_cancel_keep_every_recipient_to_one_message() {
    let app = spawn_app().await;
    let t = app.signup("ann").await;
    let (account, _) = sandbox_account(&app, &t.token).await;
    approved(&app, &t.token, account, promo_template()).await;
    let numbers: Vec<String> = (0..6).map(|i| format!("+91987650010{i}")).collect();
    let mut body = campaign_body(account, json!({"test_numbers": numbers}));
    body["rate_mps"] = json!(4);
    let id = app.post("/api/v1/campaigns", &t.token, body.clone()).await.expect(201)["id"].as_i64().unwrap();
    app.post(&format!("/api/v1/campaigns/{id}/pause"), &t.token, json!({}))
        .await
        .problem(409, "invalid_campaign_state");
    app.post(&format!("/api/v1/campaigns/{id}/start"), &t.token, json!({})).await.expect(200);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let paused = app.post(&format!("/api/v1/campaigns/{id}/pause"), &t.token, json!({})).await.expect(200);
    assert_eq!(paused["status"], "paused");
    let before = paused["progress"]["pending"].as_i64().unwrap();
    assert!(before > 0, "{paused}");
    tokio::time::sleep(Duration::from_millis(700)).await;
    let still = app.get(&format!("/api/v1/campaigns/{id}"), &t.token).await.expect(200);
    assert_eq!(still["progress"]["pending"], before, "a paused campaign kept handing over: {still}");
    // A pending number that opts out while paused is skipped at hand-over.
    let pending = app
        .get(&format!("/api/v1/campaigns/{id}/recipients?status=pending&full_numbers=true"), &t.token)
        .await
        .expect(200);
    let quitter = pending["data"][0]["phone"].as_str().unwrap().to_string();
    opt_out(&app, t.id, &quitter).await;
    app.post(&format!("/api/v1/campaigns/{id}/resume"), &t.token, json!({})).await.expect(200);
    app.post(&format!("/api/v1/campaigns/{id}/resume"), &t.token, json!({}))
        .await
        .problem(409, "invalid_campaign_state");
    let done = wait_for(&app, &t.token, id, |c| c["status"] == "completed" && c["progress"]["read"] == 5).await;
    assert_eq!(done["progress"]["recipients"], 6);
    assert_eq!(done["progress"]["skipped_by_reason"], json!({"opted_out": 1}), "{done}");
    let mut per: HashMap<String, usize> = HashMap::new();
    for m in messages_of(&app, &t.token, id).await {
        *per.entry(m["recipient"].as_str().unwrap().to_string()).or_default() += 1;
    }
    assert_eq!(per.len(), 5);
    assert!(!per.contains_key(&quitter), "{per:?}");
    assert!(per.values().all(|n| *n == 1), "{per:?}");

    // Cancel part-way: nothing pending stays pending, nothing queued is sent later.
    let mut slow = body.clone();
    slow["rate_mps"] = json!(1);
    slow["name"] = json!("Slow");
    slow["audience"]["test_numbers"] = json!((0..6).map(|i| format!("+91987650011{i}")).collect::<Vec<_>>());
    slow["variables"] = json!([{"source": "text", "value": "x"}, {"source": "lead_field", "field": "phone"}, {"source": "deep_link", "default": "https://d.example"}]);
    let id = app.post("/api/v1/campaigns", &t.token, slow).await.expect(201)["id"].as_i64().unwrap();
    app.post(&format!("/api/v1/campaigns/{id}/start"), &t.token, json!({})).await.expect(200);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let cancelled = app.post(&format!("/api/v1/campaigns/{id}/cancel"), &t.token, json!({})).await.expect(200);
    assert_eq!(cancelled["status"], "cancelled");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let c = app.get(&format!("/api/v1/campaigns/{id}"), &t.token).await.expect(200);
    let p = &c["progress"];
    assert_eq!(p["pending"], 0, "{c}");
    assert_eq!(p["queued"], 0, "{c}");
    assert!(p["skipped_by_reason"]["cancelled"].as_i64().unwrap() >= 4, "{c}");
    let sent = messages_of(&app, &t.token, id).await;
    assert!(sent.len() <= 2, "{sent:?}");
    app.post(&format!("/api/v1/campaigns/{id}/resume"), &t.token, json!({}))
        .await
        .problem(409, "invalid_campaign_state");
}

#[actix_web::test]
async fn provider_template_errors_and_red_quality_halt_the_campaign() {
    use wiremock::matchers::method;
    use wiremock::{Mock, ResponseTemplate};
    let (app, fake, t, account, path) = crate::webhooks::meta_app().await;
    let err = json!({"error": {"message": "(#132001) Template name does not exist in the translation", "type": "OAuthException", "code": 132001}});
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).set_body_json(err))
        .up_to_n_times(1)
        .mount(&fake)
        .await;
    let ok = |req: &wiremock::Request| {
        let body: Value = serde_json::from_slice(&req.body).unwrap_or_default();
        let id = format!("wamid.{}", body["to"].as_str().unwrap_or_default());
        ResponseTemplate::new(200).set_body_json(json!({"messaging_product": "whatsapp", "messages": [{"id": id}]}))
    };
    Mock::given(method("POST")).respond_with(ok).mount(&fake).await;
    let (db, tenant) = (app.state.db.clone(), t.id);
    actix_web::web::block(move || insert_approved(&db, tenant, account)).await.unwrap();
    let numbers: Vec<String> = (0..5).map(|i| format!("+91987650020{i}")).collect();
    let mut body = campaign_body(account, json!({"test_numbers": numbers}));
    body["rate_mps"] = json!(2);
    let id = app.post("/api/v1/campaigns", &t.token, body).await.expect(201)["id"].as_i64().unwrap();
    app.post(&format!("/api/v1/campaigns/{id}/start"), &t.token, json!({})).await.expect(200);
    let halted = wait_for(&app, &t.token, id, |c| c["status"] == "halted").await;
    assert_eq!(halted["halt_reason"], "ERR_TEMPLATE_NOT_READY", "{halted}");
    assert_eq!(halted["progress"]["failed_by_reason"]["ERR_TEMPLATE_NOT_READY"], 1, "{halted}");
    tokio::time::sleep(Duration::from_millis(800)).await;
    let later = app.get(&format!("/api/v1/campaigns/{id}"), &t.token).await.expect(200);
    assert_eq!(later["progress"]["sent"], halted["progress"]["sent"], "a halted campaign kept sending: {later}");

    // Resumed (the template is fine again), it finishes; then RED quality halts the next run.
    app.post(&format!("/api/v1/campaigns/{id}/resume"), &t.token, json!({})).await.expect(200);
    let done = wait_for(&app, &t.token, id, |c| c["status"] == "completed").await;
    assert_eq!(done["progress"]["sent"], 4, "{done}");
    let mut body = campaign_body(account, json!({"test_numbers": ["+919876500300", "+919876500301", "+919876500302"]}));
    body["rate_mps"] = json!(0.5);
    let id = app.post("/api/v1/campaigns", &t.token, body).await.expect(201)["id"].as_i64().unwrap();
    app.post(&format!("/api/v1/campaigns/{id}/start"), &t.token, json!({})).await.expect(200);
    let red = json!({"field": "phone_number_quality_update", "value": {"display_phone_number": "1 415-555-0100", "event": "FLAGGED", "current_limit": "TIER_1K"}});
    crate::webhooks::deliver_signed(&app, &path, crate::webhooks::APP_SECRET, &crate::webhooks::envelope(vec![red]))
        .await;
    crate::webhooks::drained(&app, &t.token).await;
    let halted = wait_for(&app, &t.token, id, |c| c["status"] == "halted").await;
    assert_eq!(halted["halt_reason"], "ERR_QUALITY_DEGRADED");
    app.post(&format!("/api/v1/campaigns/{id}/resume"), &t.token, json!({})).await.problem(409, "ERR_QUALITY_DEGRADED");
}

/// Runs `wabahub campaign run` against the test's database.
fn cli(app: &TestApp, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_wabahub"))
        .arg("campaign")
        .arg("run")
        .args(args)
        .env_clear()
        .env("DATABASE_URL", &app.database_url)
        .env("WABAHUB_DATA_DIR", app.dir.path())
        .env("JWT_SECRET", "a-cli-test-secret-that-is-long-enough")
        .env("SANDBOX_APPROVAL_SECS", "1")
        .env("RUST_LOG", "error")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run wabahub")
}

#[actix_web::test]
async fn cli_dry_run_changes_nothing_and_a_forced_run_sends_with_a_summary() {
    let app = spawn_app_with(|s| s.outbox_enabled = false).await;
    let t = app.signup("ann").await;
    let (account, _) = sandbox_account(&app, &t.token).await;
    approved(&app, &t.token, account, promo_template()).await;
    seed(&app, &t.token, &[("9876500001", 30, ago(3)), ("9876500002", 0, ago(4)), ("anonymous", 0, ago(2))]).await;
    let (tenant, account) = (t.id.to_string(), account.to_string());
    let (from, to) = (today(-5), today(0));
    let csv = app.dir.path().join("preview.csv");
    let common = [
        "--tenant",
        &tenant,
        "--account",
        &account,
        "--template-name",
        "ivr_follow_up",
        "--from-date",
        &from,
        "--to-date",
        &to,
        "--rate",
        "20",
    ];
    let mut dry = common.to_vec();
    dry.extend(["--dry-run", "--export-csv", csv.to_str().unwrap()]);
    let out = cli(&app, &dry);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("recipients: 2") && stdout.contains("excluded (invalid_number): 1"), "{stdout}");
    assert!(stdout.contains("nothing was stored or sent"), "{stdout}");
    let written = std::fs::read_to_string(&csv).unwrap();
    assert!(written.contains("+91******0001") && !written.contains("9876500001"), "{written}");
    assert_eq!(app.get("/api/v1/campaigns", &t.token).await.expect(200)["data"], json!([]));

    let out = cli(&app, &common);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--force"));
    assert_eq!(app.get("/api/v1/campaigns", &t.token).await.expect(200)["data"], json!([]));

    let results = app.dir.path().join("results.csv");
    let mut run = common.to_vec();
    run.extend(["--force", "--export-csv", results.to_str().unwrap()]);
    let out = cli(&app, &run);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains(": completed"), "{stdout}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("msg/s ETA"));
    let list = app.get("/api/v1/campaigns", &t.token).await.expect(200);
    let id = list["data"][0]["id"].as_i64().unwrap();
    assert_eq!(list["data"][0]["status"], "completed");
    assert_eq!(messages_of(&app, &t.token, id).await.len(), 2);
    assert_eq!(std::fs::read_to_string(&results).unwrap().lines().count(), 3);
}

/// Stores an approved copy of `promo_template` for an account, as a sync would.
pub fn insert_approved(db: &wabahub::db::Db, tenant: i64, account: i64) {
    let now = wabahub::db::now();
    let body = promo_template();
    wabahub::store::templates::insert(
        &mut db.get().unwrap(),
        wabahub::store::templates::NewTemplate {
            tenant_id: tenant,
            account_id: account,
            name: "ivr_follow_up".into(),
            language: "en".into(),
            category: "MARKETING".into(),
            status: "APPROVED".into(),
            provider_template_id: Some("1".into()),
            components: body["components"].to_string(),
            parameter_format: "POSITIONAL".into(),
            synced_at: None,
            created_at: now,
            updated_at: now,
        },
    )
    .unwrap();
}

/// Stores an approved `promo_template` for an account (in a blocking task).
pub async fn with_approved(app: &TestApp, tenant: i64, account: i64) {
    let db = app.state.db.clone();
    actix_web::web::block(move || insert_approved(&db, tenant, account)).await.unwrap();
}

/// A Tata account of the tenant set up in one call, with an approved `promo_template`.
pub async fn tata_account_with_template(app: &TestApp, t: &Tenant) -> i64 {
    let setup = json!({"name": "Tata", "provider": "tata", "phone_number": {"phone_number": "+919876543210"},
        "access_tokens": {"tata_auth_token": "tata.jwt.token"}, "business_profile": {"name": "T"}});
    let account =
        app.post("/api/v1/accounts/setup", &t.token, setup).await.expect(201)["account"]["id"].as_i64().unwrap();
    with_approved(app, t.id, account).await;
    account
}

#[actix_web::test]
async fn a_tata_campaign_carries_its_cta_links_in_the_body_and_reaches_each_number_once() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let fake = MockServer::start().await;
    let reply = |req: &wiremock::Request| {
        let body: Value = serde_json::from_slice(&req.body).unwrap_or_default();
        ResponseTemplate::new(200)
            .set_body_json(json!({"messageId": format!("tata-{}", body["to"].as_str().unwrap_or_default())}))
    };
    Mock::given(method("POST")).and(path("/whatsapp-cloud/messages")).respond_with(reply).mount(&fake).await;
    let uri = fake.uri();
    let app = spawn_app_with(|s| {
        s.tata_base_url = uri;
        s.public_base_url = "https://hub.example.com".into();
    })
    .await;
    let t = app.signup("tata-campaigner").await;
    let account = tata_account_with_template(&app, &t).await;

    let numbers = ["+919876500401", "+919876500402", "+919876500403"];
    let mut body = campaign_body(account, json!({"test_numbers": numbers}));
    body["rate_mps"] = json!(0.8);
    body["variables"] = json!([{"source": "lead_name"}, {"source": "cta_link", "action": "interested"},
        {"source": "cta_link", "action": "not_interested"}]);
    let id = app.post("/api/v1/campaigns", &t.token, body.clone()).await.expect(201)["id"].as_i64().unwrap();
    app.post(&format!("/api/v1/campaigns/{id}/start"), &t.token, json!({})).await.expect(200);
    let done = wait_for(&app, &t.token, id, |c| c["status"] == "completed").await;
    assert_eq!(done["progress"]["sent"], 3, "{done}");

    let sent: Vec<Value> =
        fake.received_requests().await.unwrap().iter().map(|r| serde_json::from_slice(&r.body).unwrap()).collect();
    assert_eq!(sent.len(), 3, "one request per number: {sent:?}");
    for n in numbers {
        let digits = n.trim_start_matches('+');
        let mine: Vec<&Value> = sent.iter().filter(|b| b["to"] == digits).collect();
        assert_eq!(mine.len(), 1, "{n} got {} messages", mine.len());
        let text = mine[0].to_string();
        assert!(text.contains("ivr_follow_up"), "{text}");
        assert!(text.contains("https://hub.example.com/t/"), "the CTA links ride in the body: {text}");
        assert!(text.contains("action=interested") && text.contains("action=not_interested"), "{text}");
    }

    // The same definition again messages nobody twice.
    let again = app.post("/api/v1/campaigns", &t.token, body).await.expect(201)["id"].as_i64().unwrap();
    let preview = app.post(&format!("/api/v1/campaigns/{again}/preview"), &t.token, json!({})).await.expect(200);
    assert_eq!(preview["excluded"]["already_sent"], 3, "{preview}");
}
