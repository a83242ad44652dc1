//! Templates: lint, drafts, submission, approval (sandbox), sync (fake Meta), sending.

use std::time::Duration;

use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::*;
use crate::messages::sandbox_account;
use crate::setup::full_meta_setup;

pub fn order_update() -> Value {
    json!({
        "name": "order_update", "language": "en_US", "category": "UTILITY",
        "components": [
            {"type": "BODY", "text": "Hi {{1}}, your order {{2}} ships today.", "example": {"body_text": [["Ann", "A1"]]}},
            {"type": "FOOTER", "text": "Acme"}
        ]
    })
}

/// Creates, submits and (after the sandbox's delay) syncs a template until it is approved.
pub async fn approved_template(app: &TestApp, token: &str, account: i64) -> i64 {
    let t = app.post(&format!("/api/v1/accounts/{account}/templates"), token, order_update()).await.expect(201);
    let id = t["id"].as_i64().unwrap();
    let s = app.post(&format!("/api/v1/accounts/{account}/templates/{id}/submit"), token, json!({})).await.expect(200);
    assert_eq!(s["status"], "PENDING");
    for _ in 0..60 {
        app.post(&format!("/api/v1/accounts/{account}/templates/sync"), token, json!({})).await.expect(200);
        let t = app.get(&format!("/api/v1/accounts/{account}/templates/{id}"), token).await.expect(200);
        if t["status"] == "APPROVED" {
            return id;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the sandbox never approved the template");
}

#[actix_web::test]
async fn lint_reports_every_problem_and_stores_nothing() {
    let app = spawn_app().await;
    let t = app.signup("ann").await;
    let (account, _) = sandbox_account(&app, &t.token).await;
    let bad = json!({
        "name": "Order Update", "language": "english", "category": "UTILITY",
        "components": [{"type": "BODY", "text": "{{1}} then {{3}}"}, {"type": "FOOTER", "text": "x".repeat(61)}]
    });
    let e = app
        .post(&format!("/api/v1/accounts/{account}/templates"), &t.token, bad)
        .await
        .problem(422, "validation_failed");
    for field in ["name", "language", "components[0].text", "components[0].example", "components[1].text"] {
        assert!(e["errors"][field].is_array(), "{field} not reported: {e}");
    }
    app.post(
        &format!("/api/v1/accounts/{account}/templates"),
        &t.token,
        json!({"name": "x", "language": "en", "category": "PROMO", "components": []}),
    )
    .await
    .problem(422, "validation_failed");
    let list = app.get(&format!("/api/v1/accounts/{account}/templates"), &t.token).await.expect(200);
    assert_eq!(list["data"], json!([]));
}

#[actix_web::test]
async fn draft_submit_approve_send() {
    let app = spawn_app().await;
    let t = app.signup("ann").await;
    let (account, _) = sandbox_account(&app, &t.token).await;
    let base = format!("/api/v1/accounts/{account}/templates");
    let draft = app.post(&base, &t.token, order_update()).await.expect(201);
    assert_eq!(draft["status"], "DRAFT");
    app.post(&base, &t.token, order_update()).await.problem(409, "template_exists");
    let id = draft["id"].as_i64().unwrap();
    let mut edited = order_update();
    edited["components"][1]["text"] = json!("Acme Inc");
    let e = app.patch(&format!("{base}/{id}"), &t.token, edited).await.expect(200);
    assert_eq!(e["components"][1]["text"], "Acme Inc");
    app.delete(&format!("{base}/{id}"), &t.token).await;

    let id = approved_template(&app, &t.token, account).await;
    app.patch(&format!("{base}/{id}"), &t.token, order_update()).await.problem(409, "template_not_editable");
    app.post(&format!("{base}/{id}/submit"), &t.token, json!({})).await.problem(409, "template_already_submitted");
    let approved = app.get(&format!("{base}?status=APPROVED"), &t.token).await.expect(200);
    assert_eq!(approved["data"].as_array().unwrap().len(), 1);

    let url = format!("/api/v1/accounts/{account}/send_message?wait=true");
    let wrong = json!({"to": "+919876543210", "message": {"type": "template", "name": "order_update", "language": "en_US", "components": {"body": [{"text": "Ann"}]}}});
    let e = app.post(&url, &t.token, wrong).await.problem(422, "validation_failed");
    assert!(e["errors"]["message.template.components"].is_array());
    let right = json!({"to": "+919876543210", "message": {"type": "template", "name": "order_update", "language": "en_US", "components": {"body": [{"text": "Ann"}, {"text": "A1"}]}}});
    let m = app.post(&url, &t.token, right).await.expect(201);
    assert_eq!(m["status"], "sent");
    assert_eq!(m["kind"], "template");
    assert_eq!(app.delete(&format!("{base}/{id}"), &t.token).await.status, 204);
    app.get(&format!("{base}/{id}"), &t.token).await.problem(404, "not_found");
}

#[actix_web::test]
async fn tata_refuses_button_variables() {
    let app = spawn_app().await;
    let t = app.signup("ann").await;
    let body = json!({"name": "Tata", "provider": "tata", "phone_number": {"phone_number": "+919876543210"}, "access_tokens": {"tata_auth_token": "tata.jwt.token"}, "business_profile": {"name": "T"}});
    let a = app.post("/api/v1/accounts/setup", &t.token, body).await.expect(201)["account"]["id"].as_i64().unwrap();
    let mut tpl = order_update();
    tpl["components"].as_array_mut().unwrap().push(json!({"type": "BUTTONS", "buttons": [{"type": "URL", "text": "Open", "url": "https://x.example/{{1}}", "example": ["https://x.example/a"]}]}));
    let e = app.post(&format!("/api/v1/accounts/{a}/templates"), &t.token, tpl).await.problem(422, "validation_failed");
    assert_eq!(e["errors"]["components[2].buttons[0].url"], json!(["ERR_BUTTON_VARIABLES_UNSUPPORTED"]));
}

#[actix_web::test]
async fn meta_sync_creates_updates_and_marks_missing() {
    let fake = MockServer::start().await;
    let uri = fake.uri();
    let app = spawn_app_with(|s| s.meta_graph_url = uri).await;
    let t = app.signup("ann").await;
    let a =
        app.post("/api/v1/accounts/setup", &t.token, full_meta_setup("Meta", "+14155550100", "1065")).await.expect(201)
            ["account"]["id"]
            .as_i64()
            .unwrap();
    let tpl = |id: &str, name: &str, status: &str, category: &str| json!({"id": id, "name": name, "language": "en_US", "status": status, "category": category, "components": [{"type": "BODY", "text": "Hello"}]});
    let page2 = format!("{}/v23.0/2222/message_templates?after=CURSOR", fake.uri());
    Mock::given(method("GET"))
        .and(path("/v23.0/2222/message_templates"))
        .and(wiremock::matchers::query_param("after", "CURSOR"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"data": [tpl("2", "second", "REJECTED", "MARKETING")], "paging": {}})),
        )
        .up_to_n_times(1)
        .mount(&fake)
        .await;
    Mock::given(method("GET"))
        .and(path("/v23.0/2222/message_templates"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": [tpl("1", "first", "APPROVED", "UTILITY")], "paging": {"cursors": {"after": "CURSOR"}, "next": page2}})))
        .up_to_n_times(1)
        .mount(&fake)
        .await;
    let r = app.post(&format!("/api/v1/accounts/{a}/templates/sync"), &t.token, json!({})).await.expect(200);
    assert_eq!(r, json!({"created": 2, "updated": 0, "missing": 0}));
    Mock::given(method("GET"))
        .and(path("/v23.0/2222/message_templates"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"data": [tpl("1", "first", "APPROVED", "MARKETING")], "paging": {}})),
        )
        .mount(&fake)
        .await;
    let r = app.post(&format!("/api/v1/accounts/{a}/templates/sync"), &t.token, json!({})).await.expect(200);
    assert_eq!(r, json!({"created": 0, "updated": 1, "missing": 1}));
    let list = app.get(&format!("/api/v1/accounts/{a}/templates?name=first"), &t.token).await.expect(200);
    assert_eq!(list["data"][0]["category"], "MARKETING");
    assert_eq!(list["data"][0]["previous_category"], "UTILITY");
    let gone = app.get(&format!("/api/v1/accounts/{a}/templates?status=DELETED"), &t.token).await.expect(200);
    assert_eq!(gone["data"][0]["name"], "second");
}

#[actix_web::test]
async fn sandbox_approval_arrives_without_a_manual_sync() {
    let app = spawn_app().await;
    let t = app.signup("ann").await;
    let (account, _) = sandbox_account(&app, &t.token).await;
    let base = format!("/api/v1/accounts/{account}/templates");
    let mut rejected = order_update();
    rejected["name"] = json!("reject_me");
    for body in [order_update(), rejected] {
        let id = app.post(&base, &t.token, body).await.expect(201)["id"].as_i64().unwrap();
        app.post(&format!("{base}/{id}/submit"), &t.token, json!({})).await.expect(200);
    }
    let mut statuses = Vec::new();
    for _ in 0..60 {
        let list = app.get(&base, &t.token).await.expect(200);
        statuses = list["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| (t["name"].as_str().unwrap().to_string(), t["status"].as_str().unwrap().to_string()))
            .collect();
        if statuses.iter().all(|(_, s)| s != "PENDING") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    statuses.sort();
    assert_eq!(
        statuses,
        vec![("order_update".to_string(), "APPROVED".to_string()), ("reject_me".to_string(), "REJECTED".to_string())]
    );
}

#[actix_web::test]
async fn generated_cta_templates_pass_the_linter_for_their_provider() {
    let app = spawn_app().await;
    let t = app.signup("gen").await;
    let (account, _) = crate::messages::sandbox_account(&app, &t.token).await;
    let base = json!({"name": "green_acres_update", "language": "en", "body": "Hi {{1}}, possession of Green Acres starts this month.", "body_examples": ["Asha"], "footer": "Reply STOP to opt out"});
    let with = |extra: Value| {
        let mut b = base.clone();
        b.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        b
    };

    let quick = app.post("/api/v1/templates/generate", &t.token, base.clone()).await.expect(200);
    assert_eq!(quick["category"], "MARKETING");
    assert_eq!(
        quick["components"][2],
        json!({"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "Interested"}, {"type": "QUICK_REPLY", "text": "Not interested"}]})
    );
    app.post(&format!("/api/v1/accounts/{account}/templates"), &t.token, quick).await.expect(201);

    let url =
        app.post("/api/v1/templates/generate", &t.token, with(json!({"buttons": "url_buttons"}))).await.expect(200);
    assert_eq!(url["components"][2]["buttons"][1]["url"], "http://127.0.0.1:1/t/{{1}}");
    assert_eq!(url["components"][2]["buttons"][1]["text"], "Not interested");
    let tata = app
        .post("/api/v1/templates/generate", &t.token, with(json!({"buttons": "url_buttons", "provider": "tata"})))
        .await;
    let e = tata.problem(422, "validation_failed");
    assert_eq!(e["errors"]["components[2].buttons[0].url"], json!(["ERR_BUTTON_VARIABLES_UNSUPPORTED"]));

    let links = app
        .post("/api/v1/templates/generate", &t.token, with(json!({"buttons": "text_links", "provider": "tata"})))
        .await
        .expect(200);
    let body = links["components"][0]["text"].as_str().unwrap();
    assert!(body.contains("Interested: {{2}}\nNot interested: {{3}}"), "{body}");
    assert_eq!(links["components"][0]["example"]["body_text"][0].as_array().unwrap().len(), 3);
    assert_eq!(links["components"].as_array().unwrap().len(), 2);

    let bad =
        app.post("/api/v1/templates/generate", &t.token, with(json!({"name": "Bad Name", "body_examples": []}))).await;
    let e = bad.problem(422, "validation_failed");
    assert_eq!(e["errors"]["name"], json!(["invalid_name"]));
    assert_eq!(e["errors"]["components[0].example"], json!(["example_required"]));
    let e = app
        .post("/api/v1/templates/generate", &t.token, with(json!({"buttons": "carousel"})))
        .await
        .problem(422, "validation_failed");
    assert_eq!(e["errors"]["buttons"], json!(["invalid_choice"]));
}
