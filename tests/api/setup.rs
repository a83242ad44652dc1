//! The 6-step setup wizard: one call, or step by step.

use serde_json::{Value, json};

use crate::helpers::*;

pub fn full_meta_setup(name: &str, phone: &str, phone_id: &str) -> Value {
    json!({
        "name": name,
        "provider": "meta",
        "business_account": {"meta_business_account_id": "1111", "waba_id": "2222", "app_id": "3333"},
        "phone_number": {"phone_number": phone, "provider_phone_number_id": phone_id, "verified_name": "Acme"},
        "access_tokens": {"access_token": "EAAG-token-123456", "app_secret": "app-secret-123456"},
        "business_profile": {"name": "Acme", "email": "hi@acme.example", "website": "https://acme.example"},
        "bot": {"enable_auto_reply": true, "greeting_message": "Hi!", "business_hours_start": "09:00", "business_hours_end": "18:00", "timezone": "Asia/Kolkata"},
        "webhook": {"verify_token": "my-verify-token"}
    })
}

#[actix_web::test]
async fn one_call_setup_creates_an_active_account() {
    let app = spawn_app().await;
    let t = app.signup("ann").await;
    let res = app
        .post("/api/v1/accounts/setup", &t.token, full_meta_setup("Main", "+91 98765 43210", "10650001"))
        .await
        .expect(201);
    assert_eq!(res["account"]["status"], "active");
    assert_eq!(res["account"]["setup_step"], 6);
    assert_eq!(res["account"]["bot_settings"]["timezone"], "Asia/Kolkata");
    assert_eq!(res["phone_number"]["phone_number"], "+919876543210");
    assert_eq!(res["phone_number"]["is_default"], true);
    assert_eq!(res["phone_number"]["throughput_mps"], 80.0);
    assert_eq!(res["webhook"]["verify_token"], "my-verify-token");
    let url = res["webhook"]["url"].as_str().unwrap();
    assert!(url.starts_with("http://127.0.0.1:1/webhooks/meta/") && url.len() > 50, "{url}");
    assert_eq!(res["account"]["webhook_url"], url);
    let id = res["account"]["id"].as_i64().unwrap();
    let state = app.get(&format!("/api/v1/accounts/{id}/setup"), &t.token).await.expect(200);
    assert!(state["next_step"].is_null());
    assert!(state["steps"].as_array().unwrap().iter().all(|s| s["complete"] == true && s["missing"] == json!([])));
    // The verify token is shown once, in the setup answer only.
    assert!(!app.get(&format!("/api/v1/accounts/{id}"), &t.token).await.text.contains("my-verify-token"));
}

#[actix_web::test]
async fn one_call_setup_reports_every_step_error_and_creates_nothing() {
    let app = spawn_app().await;
    let t = app.signup("ann").await;
    let mut body = full_meta_setup("Main", "+91 58765 43210", "10650001");
    body["bot"]["timezone"] = json!("Mars/Base");
    let errors =
        app.post("/api/v1/accounts/setup", &t.token, body).await.problem(422, "validation_failed")["errors"].clone();
    assert_eq!(errors["phone_number.phone_number"], json!(["invalid_india_mobile"]));
    assert_eq!(errors["bot.timezone"], json!(["invalid_timezone"]));
    let mut body = full_meta_setup("Main", "+919876543210", "10650001");
    body["access_tokens"] = json!({});
    body["business_account"] = json!({"waba_id": "abc"});
    let errors =
        app.post("/api/v1/accounts/setup", &t.token, body).await.problem(422, "validation_failed")["errors"].clone();
    assert_eq!(errors["access_tokens.access_token"], json!(["required"]));
    assert_eq!(errors["access_tokens.app_secret"], json!(["required"]));
    assert_eq!(errors["business_account.waba_id"], json!(["not_numeric"]));
    assert_eq!(errors["business_account.meta_business_account_id"], json!(["required"]));
    assert_eq!(app.get("/api/v1/accounts", &t.token).await.expect(200)["data"], json!([]));
}

#[actix_web::test]
async fn step_by_step_cannot_skip_and_activates_after_six() {
    let app = spawn_app().await;
    let t = app.signup("ann").await;
    let a = app.post("/api/v1/accounts", &t.token, json!({"name": "Wizard", "provider": "meta"})).await.expect(201);
    let id = a["id"].as_i64().unwrap();
    let step = |n: &str| format!("/api/v1/accounts/{id}/setup/{n}");
    let st = app.get(&format!("/api/v1/accounts/{id}/setup"), &t.token).await.expect(200);
    assert_eq!(st["next_step"], 1);
    assert_eq!(st["steps"][0]["missing"], json!(["meta_business_account_id", "waba_id"]));
    assert_eq!(st["steps"][2]["missing"], json!(["access_token", "app_secret"]));

    app.put(&step("3"), &t.token, json!({"access_token": "EAAG-token-123456"}))
        .await
        .problem(409, "setup_step_skipped");
    let e = app.put(&step("1"), &t.token, json!({"waba_id": "2222"})).await.problem(422, "validation_failed");
    assert_eq!(e["errors"]["meta_business_account_id"], json!(["required"]));
    app.put(&step("business_account"), &t.token, json!({"meta_business_account_id": "1111", "waba_id": "2222"}))
        .await
        .expect(200);
    let e = app.put(&step("2"), &t.token, json!({"phone_number": "12345"})).await.problem(422, "validation_failed");
    assert_eq!(e["errors"]["phone_number"], json!(["invalid_e164"]));
    let s2 = app
        .put(&step("2"), &t.token, json!({"phone_number": "+14155550100", "provider_phone_number_id": "777"}))
        .await
        .expect(200);
    assert_eq!(s2["setup_step"], 2);
    // Redoing step 2 replaces the default number instead of adding one.
    app.put(&step("2"), &t.token, json!({"phone_number": "+14155550101", "provider_phone_number_id": "778"}))
        .await
        .expect(200);
    let phones = app.get(&format!("/api/v1/accounts/{id}/phone-numbers"), &t.token).await.expect(200);
    assert_eq!(phones["data"].as_array().unwrap().len(), 1);
    assert_eq!(phones["data"][0]["phone_number"], "+14155550101");
    let e = app
        .put(&step("3"), &t.token, json!({"access_token": "EAAG-token-123456"}))
        .await
        .problem(422, "validation_failed");
    assert_eq!(e["errors"]["app_secret"], json!(["required"]));
    app.put(&step("3"), &t.token, json!({"access_token": "EAAG-token-123456", "app_secret": "app-secret-1"}))
        .await
        .expect(200);
    app.put(&step("4"), &t.token, json!({"name": "Acme", "vertical": "RETAIL"})).await.expect(200);
    app.put(&step("5"), &t.token, json!({"business_hours_start": "09:00"})).await.problem(422, "validation_failed");
    app.put(&step("5"), &t.token, json!({"enable_auto_reply": true, "fallback_message": "We will get back to you"}))
        .await
        .expect(200);
    let before = app.get(&format!("/api/v1/accounts/{id}"), &t.token).await.expect(200);
    assert_eq!(before["status"], "pending_setup");
    let done =
        app.put(&step("webhook"), &t.token, json!({"subscribed_events": ["messages", "flows"]})).await.expect(200);
    assert_eq!(done["status"], "active");
    assert_eq!(done["setup_step"], 6);
    assert_eq!(done["webhook"]["verify_token"].as_str().unwrap().len(), 24);
    assert_eq!(done["webhook"]["subscribed_events"], json!(["messages", "flows"]));
    app.put(&step("7"), &t.token, json!({})).await.problem(404, "not_found");
    app.put(&step("4"), &t.token, json!({"name": 5})).await.problem(422, "validation_failed");
}

#[actix_web::test]
async fn tata_and_sandbox_need_their_own_fields() {
    let app = spawn_app_with(|s| s.tata_allowed_base_urls = vec!["https://tata.example".into()]).await;
    let t = app.signup("ann").await;
    let tata = json!({
        "name": "Tata", "provider": "tata",
        "phone_number": {"phone_number": "+919876543210"},
        "access_tokens": {"tata_base_url": "https://tata.example"},
        "business_profile": {"name": "Acme"}
    });
    let e = app.post("/api/v1/accounts/setup", &t.token, tata.clone()).await.problem(422, "validation_failed");
    assert_eq!(e["errors"]["access_tokens.tata_auth_token"], json!(["required"]));
    let mut ok = tata;
    ok["access_tokens"]["tata_auth_token"] = json!("tata.jwt.value");
    let res = app.post("/api/v1/accounts/setup", &t.token, ok).await.expect(201);
    assert_eq!(res["phone_number"]["throughput_mps"], 0.8);
    assert!(res["webhook"]["url"].as_str().unwrap().contains("/webhooks/tata/"));
    let sandbox =
        json!({"name": "Play", "phone_number": {"phone_number": "+14155550100"}, "business_profile": {"name": "Play"}});
    let res = app.post("/api/v1/accounts/setup", &t.token, sandbox).await.expect(201);
    assert_eq!(res["account"]["provider"], "sandbox");
    assert_eq!(res["phone_number"]["status"], "CONNECTED");
}

#[actix_web::test]
async fn each_step_has_its_named_path_and_the_number_is_an_alias() {
    let app = spawn_app().await;
    let t = app.signup("ann").await;
    let a = app.post("/api/v1/accounts", &t.token, json!({"name": "Named", "provider": "meta"})).await.expect(201);
    let id = a["id"].as_i64().unwrap();
    let steps = full_meta_setup("Named", "+14155550100", "777");
    let names = ["business_account", "phone_number", "access_tokens", "business_profile", "bot", "webhook"];
    for (n, name) in names.iter().enumerate() {
        let st =
            app.put(&format!("/api/v1/accounts/{id}/setup/{name}"), &t.token, steps[name].clone()).await.expect(200);
        assert_eq!(st["setup_step"], n + 1, "{name}");
    }
    // The numeric alias saves the same step with the same bare body.
    let redo = json!({"name": "Acme Two"});
    app.put(&format!("/api/v1/accounts/{id}/setup/4"), &t.token, redo).await.expect(200);
    let acc = app.get(&format!("/api/v1/accounts/{id}"), &t.token).await.expect(200);
    assert_eq!(acc["business_profile"]["name"], "Acme Two");
    // A body wrapped as the old document showed it is refused, on both paths.
    let wrapped = json!({"BusinessProfile": {"name": "Wrapped"}});
    for p in ["4", "business_profile"] {
        app.put(&format!("/api/v1/accounts/{id}/setup/{p}"), &t.token, wrapped.clone())
            .await
            .problem(422, "validation_failed");
    }
    app.put(&format!("/api/v1/accounts/{id}/setup/nope"), &t.token, json!({})).await.problem(404, "not_found");
}
