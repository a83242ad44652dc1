//! CTA click tracking: links and quick replies update the lead, run the follow-ups once, and
//! refuse tampered, foreign or expired tokens without changing anything.

use std::time::Duration;

use serde_json::{Value, json};
use wabahub::domain::cta::CtaAction;

use crate::helpers::*;
use crate::leads::project;
use crate::messages::sandbox_account;

const BROCHURE: &str = "https://cdn.example.com/green-acres.pdf";

/// GETs a tracking URL (no credentials) and returns its status, content type and body.
async fn click(app: &TestApp, url: &str) -> (u16, String, String) {
    let res = app.client.get(url).send().await.unwrap();
    let ct = res.headers().get("content-type").unwrap().to_str().unwrap().to_string();
    (res.status().as_u16(), ct, res.text().await.unwrap())
}

fn link(app: &TestApp, lead: i64, action: CtaAction, campaign: Option<i64>) -> String {
    app.state.cta.link_for(&app.base, lead, action, campaign, chrono::Utc::now().timestamp())
}

async fn notes(app: &TestApp, token: &str, lead: i64) -> Vec<String> {
    let list = app.get(&format!("/api/v1/leads/{lead}/notes"), token).await.expect(200);
    list["data"].as_array().unwrap().iter().rev().map(|n| n["text"].as_str().unwrap().to_string()).collect()
}

async fn outbound_to(app: &TestApp, token: &str, to: &str) -> Vec<Value> {
    let path = format!("/api/v1/messages?direction=outbound&recipient={}", to.replace('+', "%2B"));
    app.get(&path, token).await.expect(200)["data"].as_array().unwrap().clone()
}

#[actix_web::test]
async fn an_interested_click_sends_the_brochure_once_and_flags_a_call() {
    let app = spawn_app().await;
    let t = app.signup("cara").await;
    let (account, _) = sandbox_account(&app, &t.token).await;
    let green = project(&app, t.id, "Green Acres", Some(BROCHURE)).await;
    let lead =
        app.post("/api/v1/leads", &t.token, json!({"phone": "+919876543210", "project_id": green})).await.expect(201);
    let id = lead["id"].as_i64().unwrap();
    // The brochure is a free-form message: it needs the contact's open service window.
    crate::inbox::sandbox_inbound(&app, &t.token, account, "+919876543210").await;

    let url = link(&app, id, CtaAction::Interested, None);
    let (status, ct, body) = click(&app, &url).await;
    assert_eq!((status, ct.as_str()), (200, "text/html; charset=utf-8"));
    assert!(body.contains("Thank you for your interest"), "{body}");
    let after = app.get(&format!("/api/v1/leads/{id}"), &t.token).await.expect(200);
    assert_eq!((after["status"].as_str(), after["stage"].as_str()), (Some("interested"), Some("follow_up_call")));
    assert_eq!(after["follow_up"], true);
    let sent = outbound_to(&app, &t.token, "+919876543210").await;
    assert_eq!(sent.len(), 1);
    assert_eq!(
        sent[0]["message"],
        json!({"type": "media", "kind": "document", "link": BROCHURE, "caption": "Here is the brochure you asked for.", "filename": "brochure.pdf"})
    );
    let written = notes(&app, &t.token, id).await;
    assert_eq!(written[0], "hi", "the contact's message");
    assert_eq!(written[1], "Answered \"Interested\" via the tracked link.");
    assert_eq!(written[2], format!("Brochure queued as message {}.", sent[0]["id"]));

    let (status, _, _) = click(&app, &url).await;
    assert_eq!(status, 200);
    assert_eq!(outbound_to(&app, &t.token, "+919876543210").await.len(), 1);
    assert_eq!(notes(&app, &t.token, id).await.len(), 3);
}

#[actix_web::test]
async fn a_not_interested_click_opts_the_number_out() {
    let app = spawn_app().await;
    let t = app.signup("dev").await;
    let (account, _) = sandbox_account(&app, &t.token).await;
    let lead = app.post("/api/v1/leads", &t.token, json!({"phone": "+919876543210"})).await.expect(201);
    let id = lead["id"].as_i64().unwrap();
    let (status, _, body) = click(&app, &link(&app, id, CtaAction::NotInterested, Some(77))).await;
    assert_eq!(status, 200);
    assert!(body.contains("will not send you further messages"), "{body}");
    let after = app.get(&format!("/api/v1/leads/{id}"), &t.token).await.expect(200);
    assert_eq!((after["status"].as_str(), after["stage"].as_str()), (Some("not_interested"), Some("closed")));
    assert_eq!(notes(&app, &t.token, id).await, ["Answered \"Not interested\" via the tracked link (campaign 77)."]);
    let listed = app.get("/api/v1/opt-outs?source=cta", &t.token).await.expect(200);
    assert_eq!(listed["data"][0]["phone"], "+919876543210");
    let send = json!({"account_id": account, "to": "+919876543210", "message": {"type": "text", "body": "offer"}});
    app.post("/api/v1/messages", &t.token, send).await.problem(409, "recipient_opted_out");

    // Interested afterwards: recorded, but nothing is sent to an opted-out number.
    click(&app, &link(&app, id, CtaAction::Interested, None)).await;
    let written = notes(&app, &t.token, id).await;
    assert_eq!(written.last().unwrap(), "Brochure not sent: the lead has no project.");
    assert!(outbound_to(&app, &t.token, "+919876543210").await.is_empty());
}

#[actix_web::test]
async fn bad_links_show_an_error_page_and_change_nothing() {
    let app = spawn_app().await;
    let t = app.signup("eve").await;
    let lead = app.post("/api/v1/leads", &t.token, json!({"phone": "+919876543210"})).await.expect(201);
    let other = app.post("/api/v1/leads", &t.token, json!({"phone": "+919812345678"})).await.expect(201);
    let (id, other_id) = (lead["id"].as_i64().unwrap(), other["id"].as_i64().unwrap());
    let now = chrono::Utc::now().timestamp();
    let good = app.state.cta.issue(id, now);
    let tampered = format!("{}{}", &good[..good.len() - 1], if good.ends_with('0') { '1' } else { '0' });
    let foreign = app.state.cta.issue(other_id, now);
    let expired = app.state.cta.issue(id, now - 7200);
    let base = format!("{}/t/{id}", app.base);
    let cases = [
        (format!("{base}?token={tampered}&action=interested"), 403, "not valid"),
        (format!("{base}?token={foreign}&action=interested"), 403, "not valid"),
        (format!("{base}?token={good}&action=interested&c=5"), 403, "not valid"),
        (format!("{base}?action=interested"), 403, "not valid"),
        (format!("{base}?token={expired}&action=interested"), 410, "expired"),
        (format!("{base}?token={good}&action=maybe"), 400, "incomplete"),
        (format!("{}/t/abc?token={good}&action=interested", app.base), 403, "not valid"),
    ];
    for (url, code, text) in cases {
        let (status, ct, body) = click(&app, &url).await;
        assert_eq!(status, code, "{url}: {body}");
        assert!(ct.starts_with("text/html") && body.contains(text), "{url}: {body}");
    }
    let after = app.get(&format!("/api/v1/leads/{id}"), &t.token).await.expect(200);
    assert_eq!(after["status"], "new");
    assert!(notes(&app, &t.token, id).await.is_empty());
    app.delete(&format!("/api/v1/leads/{id}"), &t.token).await.expect(204);
    let (status, _, body) = click(&app, &format!("{base}?token={good}&action=interested")).await;
    assert_eq!(status, 404, "{body}");
}

#[actix_web::test]
async fn quick_replies_with_a_cta_payload_count_as_clicks() {
    let app = spawn_app().await;
    let t = app.signup("quinn").await;
    let (account, _) = sandbox_account(&app, &t.token).await;
    let acc = app.get(&format!("/api/v1/accounts/{account}"), &t.token).await.expect(200);
    let path = crate::webhooks::path_of(acc["webhook_url"].as_str().unwrap());
    let green = project(&app, t.id, "Green Acres", Some(BROCHURE)).await;
    let lead =
        app.post("/api/v1/leads", &t.token, json!({"phone": "+919876543210", "project_id": green})).await.expect(201);
    let reply = json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp", "metadata": {"phone_number_id": "none"},
        "messages": [{"from": "919876543210", "id": "wamid.Q1", "timestamp": chrono::Utc::now().timestamp().to_string(), "type": "button",
                      "button": {"payload": "cta:interested:12", "text": "Interested"}}]}}]}]});
    crate::webhooks::deliver_signed(&app, path, wabahub::providers::sandbox::SANDBOX_APP_SECRET, &reply).await;
    let lead_path = format!("/api/v1/leads/{}", lead["id"]);
    let mut status = Value::Null;
    for _ in 0..200 {
        status = app.get(&lead_path, &t.token).await.expect(200)["status"].clone();
        if status == "interested" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(status, "interested");
    let written = notes(&app, &t.token, lead["id"].as_i64().unwrap()).await;
    assert!(written.contains(&"Answered \"Interested\" via a quick reply (campaign 12).".to_string()), "{written:?}");
    let sent = outbound_to(&app, &t.token, "+919876543210").await;
    assert!(sent.iter().any(|m| m["message"]["link"] == BROCHURE), "{sent:?}");
}

#[actix_web::test]
async fn engagement_counts_sends_and_clicks_overall_and_per_campaign() {
    use diesel::{ExpressionMethods, QueryDsl, RunQueryDsl};
    let app = spawn_app().await;
    let t = app.signup("gita").await;
    let (account, _) = sandbox_account(&app, &t.token).await;
    let mut ids = Vec::new();
    for phone in ["+919876543210", "+919812345678"] {
        let lead = app.post("/api/v1/leads", &t.token, json!({"phone": phone})).await.expect(201);
        crate::inbox::sandbox_inbound(&app, &t.token, account, phone).await;
        let send = json!({"account_id": account, "to": phone, "message": {"type": "text", "body": "new launch"}});
        let m = app.post("/api/v1/messages", &t.token, send).await.expect(202);
        assert_eq!(crate::messages::settle(&app, &t.token, m["id"].as_i64().unwrap()).await["status"], "sent");
        ids.push((lead["id"].as_i64().unwrap(), m["id"].as_i64().unwrap()));
    }
    let (db, first) = (app.state.db.clone(), ids[0].1);
    actix_web::web::block(move || {
        use wabahub::db::schema::messages::dsl as m;
        diesel::update(m::messages.find(first)).set(m::campaign_id.eq(5)).execute(&mut db.get().unwrap()).unwrap()
    })
    .await
    .unwrap();
    click(&app, &link(&app, ids[0].0, CtaAction::Interested, Some(5))).await;
    click(&app, &link(&app, ids[1].0, CtaAction::NotInterested, None)).await;

    let report = app.get("/api/v1/analytics/engagement?days=7", &t.token).await.expect(200);
    assert_eq!(
        report["overall"],
        json!({"sent": 2, "interested": 1, "not_interested": 1, "engagement_rate": 1.0, "conversion_rate": 0.5})
    );
    assert_eq!(
        report["campaigns"],
        json!([{"campaign_id": 5, "sent": 1, "interested": 1, "not_interested": 0, "engagement_rate": 1.0, "conversion_rate": 1.0}])
    );
    assert_eq!(report["to"].as_str().unwrap(), chrono::Utc::now().date_naive().to_string());
    for days in ["0", "366", "x"] {
        app.get(&format!("/api/v1/analytics/engagement?days={days}"), &t.token).await.problem(422, "validation_failed");
    }
    let other = app.signup("hal").await;
    let theirs = app.get("/api/v1/analytics/engagement", &other.token).await.expect(200);
    assert_eq!(theirs["overall"]["sent"], 0);
    assert_eq!(theirs["campaigns"], json!([]));
}
