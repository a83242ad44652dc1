//! Operations that reach the provider: flows, phone-number sync and registration, health checks
//! (with webhook drift and re-authentication), usage, and Embedded Signup — against fake Meta.

use serde_json::{Value, json};
use wiremock::matchers::{body_partial_json, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::*;
use crate::messages::{sandbox_account, settle};
use crate::setup::full_meta_setup;

fn ok(body: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(body)
}

async fn meta_app() -> (TestApp, MockServer, Tenant, Value) {
    let fake = MockServer::start().await;
    let uri = fake.uri();
    let app = spawn_app_with(|s| {
        s.meta_graph_url = uri;
        s.meta_app_id = Some("platform-app".into());
        s.meta_app_secret = Some("platform-secret".into());
    })
    .await;
    let t = app.signup("ann").await;
    let setup =
        app.post("/api/v1/accounts/setup", &t.token, full_meta_setup("Meta", "+14155550100", "1065")).await.expect(201);
    (app, fake, t, setup)
}

#[actix_web::test]
async fn flow_lifecycle() {
    let (app, fake, t, setup) = meta_app().await;
    let a = setup["account"]["id"].as_i64().unwrap();
    Mock::given(method("POST"))
        .and(path("/v23.0/2222/flows"))
        .respond_with(ok(json!({"id": "flow-1"})))
        .mount(&fake)
        .await;
    Mock::given(method("POST"))
        .and(path("/v23.0/flow-1/assets"))
        .respond_with(ok(json!({"success": true, "validation_errors": [{"error": "INVALID_PROPERTY", "error_type": "JSON_SCHEMA_ERROR", "message": "bad", "line_start": 1, "line_end": 1, "column_start": 1, "column_end": 2}]})))
        .mount(&fake)
        .await;
    for p in ["/v23.0/flow-1/publish", "/v23.0/flow-1/deprecate"] {
        Mock::given(method("POST")).and(path(p)).respond_with(ok(json!({"success": true}))).mount(&fake).await;
    }
    let base = format!("/api/v1/accounts/{a}/flows");
    app.post(&base, &t.token, json!({"name": "Sign up", "flow_json": {"screens": []}}))
        .await
        .problem(422, "validation_failed");
    app.post(&base, &t.token, json!({"name": "Sign up", "categories": ["NOPE"]}))
        .await
        .problem(422, "validation_failed");
    let f = app.post(&base, &t.token, json!({"name": "Sign up", "categories": ["SIGN_UP"]})).await.expect(201);
    assert_eq!(f["status"], "DRAFT");
    assert_eq!(f["provider_flow_id"], "flow-1");
    let id = f["id"].as_i64().unwrap();
    app.post(&format!("{base}/{id}/publish"), &t.token, json!({})).await.problem(409, "flow_json_missing");
    let flow_json = json!({"version": "6.0", "screens": [{"id": "WELCOME", "layout": {"type": "SingleColumnLayout", "children": []}}]});
    let up = app.put(&format!("{base}/{id}/json"), &t.token, flow_json.clone()).await.expect(200);
    assert_eq!(up["validation_errors"][0]["error"], "INVALID_PROPERTY");
    assert_eq!(up["flow_json"], flow_json);
    app.post(&format!("{base}/{id}/deprecate"), &t.token, json!({})).await.problem(409, "flow_not_published");
    let p = app.post(&format!("{base}/{id}/publish"), &t.token, json!({})).await.expect(200);
    assert_eq!(p["status"], "PUBLISHED");
    app.delete(&format!("{base}/{id}"), &t.token).await.problem(409, "flow_not_draft");
    let d = app.post(&format!("{base}/{id}/deprecate"), &t.token, json!({})).await.expect(200);
    assert_eq!(d["status"], "DEPRECATED");
    app.put(&format!("{base}/{id}/json"), &t.token, flow_json).await.problem(409, "flow_deprecated");
    let list = app.get(&base, &t.token).await.expect(200);
    assert_eq!(list["data"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn phone_sync_and_registration() {
    let (app, fake, t, setup) = meta_app().await;
    let a = setup["account"]["id"].as_i64().unwrap();
    let phone = setup["phone_number"]["id"].as_i64().unwrap();
    Mock::given(method("GET"))
        .and(path("/v23.0/2222/phone_numbers"))
        .respond_with(ok(json!({"data": [
            {"id": "1065", "display_phone_number": "+1 415-555-0100", "verified_name": "Acme", "status": "CONNECTED", "quality_rating": "YELLOW", "whatsapp_business_manager_messaging_limit": "TIER_2K", "throughput": {"level": "HIGH"}},
            {"id": "1066", "display_phone_number": "14155550111", "verified_name": "Acme Two", "status": "PENDING", "quality_rating": "GREEN", "throughput": {"level": "STANDARD"}}
        ], "paging": {}})))
        .mount(&fake)
        .await;
    let r = app.post(&format!("/api/v1/accounts/{a}/phone-numbers/sync"), &t.token, json!({})).await.expect(200);
    assert_eq!(r, json!({"created": 1, "updated": 1, "conflicts": 0}));
    let p = app.get(&format!("/api/v1/phone-numbers/{phone}"), &t.token).await.expect(200);
    assert_eq!(p["quality_rating"], "YELLOW");
    assert_eq!(p["messaging_limit_tier"], "TIER_2K");
    assert_eq!(p["throughput_mps"], 1000.0);
    let all = app.get(&format!("/api/v1/accounts/{a}/phone-numbers"), &t.token).await.expect(200);
    assert!(all["data"].as_array().unwrap().iter().any(|n| n["phone_number"] == "+14155550111"));

    Mock::given(method("POST"))
        .and(path("/v23.0/1065/register"))
        .and(body_partial_json(json!({"messaging_product": "whatsapp", "pin": "123456"})))
        .respond_with(ok(json!({"success": true})))
        .expect(1)
        .mount(&fake)
        .await;
    app.post(&format!("/api/v1/phone-numbers/{phone}/register"), &t.token, json!({"pin": "12345"}))
        .await
        .problem(422, "validation_failed");
    let reg = app
        .post(&format!("/api/v1/phone-numbers/{phone}/register"), &t.token, json!({"pin": "123456"}))
        .await
        .expect(200);
    assert_eq!(reg["status"], "CONNECTED");
    Mock::given(method("POST"))
        .and(path("/v23.0/1065/request_code"))
        .and(body_partial_json(json!({"code_method": "SMS", "language": "en_US"})))
        .respond_with(ok(json!({"success": true})))
        .mount(&fake)
        .await;
    app.post(&format!("/api/v1/phone-numbers/{phone}/request-code"), &t.token, json!({"code_method": "SMS"}))
        .await
        .expect(200);
    let wrong = json!({"error": {"message": "(#133005) PIN mismatch", "type": "OAuthException", "code": 133005, "error_data": {"details": "wrong code"}}});
    Mock::given(method("POST"))
        .and(path("/v23.0/1065/verify_code"))
        .respond_with(ResponseTemplate::new(400).set_body_json(wrong))
        .mount(&fake)
        .await;
    let e = app.post(&format!("/api/v1/phone-numbers/{phone}/verify-code"), &t.token, json!({"code": "000000"})).await;
    assert_eq!(e.status, 502);
    assert!(e.text.contains("133005"));
}

#[actix_web::test]
async fn health_checks_detect_drift_and_expired_tokens() {
    let (app, fake, t, setup) = meta_app().await;
    let a = setup["account"]["id"].as_i64().unwrap();
    Mock::given(method("GET"))
        .and(path("/v23.0/1065"))
        .and(query_param("fields", "health_status"))
        .respond_with(ok(json!({"health_status": {"can_send_message": "AVAILABLE", "entities": []}, "id": "1065"})))
        .up_to_n_times(1)
        .mount(&fake)
        .await;
    Mock::given(method("GET"))
        .and(path("/v23.0/2222/subscribed_apps"))
        .respond_with(ok(json!({"data": [{"whatsapp_business_api_data": {"id": "1"}, "override_callback_uri": "https://elsewhere.example/hook"}]})))
        .mount(&fake)
        .await;
    let h = app.post(&format!("/api/v1/accounts/{a}/health-check"), &t.token, json!({})).await.expect(200);
    assert_eq!(h["status"], "degraded");
    assert_eq!(h["details"]["webhook_drift"], true);
    let expired = json!({"error": {"message": "Error validating access token", "type": "OAuthException", "code": 190}});
    Mock::given(method("GET"))
        .and(path("/v23.0/1065"))
        .respond_with(ResponseTemplate::new(401).set_body_json(expired))
        .mount(&fake)
        .await;
    let h = app.post(&format!("/api/v1/accounts/{a}/health-check"), &t.token, json!({})).await.expect(200);
    assert_eq!(h["status"], "unhealthy");
    assert!(h["error"].as_str().unwrap().contains("190"));
    let acc = app.get(&format!("/api/v1/accounts/{a}"), &t.token).await.expect(200);
    assert_eq!(acc["status"], "needs_reauth");
    assert_eq!(acc["health_status"], "unhealthy");
    let logs = app.get(&format!("/api/v1/accounts/{a}/health-logs"), &t.token).await.expect(200);
    assert_eq!(logs["data"].as_array().unwrap().len(), 2);
}

#[actix_web::test]
async fn sandbox_health_and_usage_counts() {
    let app = spawn_app().await;
    let t = app.signup("ann").await;
    let (a, _) = sandbox_account(&app, &t.token).await;
    let h = app.post(&format!("/api/v1/accounts/{a}/health-check"), &t.token, json!({})).await.expect(200);
    assert_eq!(h["status"], "healthy");
    for to in ["+919876543210", "+919876543211", "+14155550000"] {
        crate::inbox::sandbox_inbound(&app, &t.token, a, to).await;
        let m = app
            .post(
                &format!("/api/v1/accounts/{a}/send_message"),
                &t.token,
                json!({"to": to, "message": {"type": "text", "body": "hi"}}),
            )
            .await
            .expect(202);
        settle(&app, &t.token, m["id"].as_i64().unwrap()).await;
    }
    let u = app.get(&format!("/api/v1/accounts/{a}/usage"), &t.token).await.expect(200);
    assert_eq!(u["total"]["sent"], 2);
    assert_eq!(u["total"]["failed"], 1);
    assert_eq!(u["days"].as_array().unwrap().len(), 1);
    assert_eq!(u["months"][0]["sent"], 2);
    app.get(&format!("/api/v1/accounts/{a}/usage?from=2026-01-10&to=2026-01-01"), &t.token)
        .await
        .problem(422, "validation_failed");
    app.get(&format!("/api/v1/accounts/{a}/usage?from=2020-01-01&to=2026-01-01"), &t.token)
        .await
        .problem(422, "validation_failed");
}

#[actix_web::test]
async fn embedded_signup_creates_an_active_account() {
    let (app, fake, t, _) = meta_app().await;
    Mock::given(method("GET"))
        .and(path("/v23.0/oauth/access_token"))
        .and(query_param("client_id", "platform-app"))
        .and(query_param("code", "AQB-code"))
        .respond_with(ok(json!({"access_token": "EAAB-business-token", "token_type": "bearer"})))
        .mount(&fake)
        .await;
    Mock::given(method("POST"))
        .and(path("/v23.0/9999/subscribed_apps"))
        .respond_with(ok(json!({"success": true})))
        .expect(1)
        .mount(&fake)
        .await;
    Mock::given(method("POST"))
        .and(path("/v23.0/8888/register"))
        .respond_with(ok(json!({"success": true})))
        .expect(1)
        .mount(&fake)
        .await;
    Mock::given(method("GET"))
        .and(path("/v23.0/9999/phone_numbers"))
        .respond_with(ok(json!({"data": [{"id": "8888", "display_phone_number": "+91 98765 43210", "verified_name": "Signup Co"}], "paging": {}})))
        .mount(&fake)
        .await;
    let res = app
        .post(
            "/api/v1/accounts/embedded-signup",
            &t.token,
            json!({"code": "AQB-code", "waba_id": "9999", "phone_number_id": "8888"}),
        )
        .await
        .expect(201);
    assert_eq!(res["account"]["status"], "active");
    assert_eq!(res["account"]["name"], "Signup Co");
    assert_eq!(res["account"]["credentials"]["has_access_token"], true);
    assert_eq!(res["phone_number"]["phone_number"], "+919876543210");
    assert!(!raw_dump(&app).await.contains("EAAB-business-token"));
    app.post(
        "/api/v1/accounts/embedded-signup",
        &t.token,
        json!({"code": "AQB-code", "waba_id": "9999", "phone_number_id": "8888"}),
    )
    .await
    .problem(409, "phone_number_id_taken");
}

/// Asserts that nothing reached the fake provider.
async fn nothing_sent(fake: &MockServer) {
    assert_eq!(fake.received_requests().await.unwrap_or_default().len(), 0);
}

#[actix_web::test]
async fn a_meta_account_without_credentials_is_a_409_not_a_bad_gateway() {
    let fake = MockServer::start().await;
    let uri = fake.uri();
    let app = spawn_app_with(|s| s.meta_graph_url = uri).await;
    let t = app.signup("ann").await;
    let no_token =
        app.post("/api/v1/accounts", &t.token, json!({"name": "M", "provider": "meta", "waba_id": "2222"})).await;
    let a = no_token.expect(201)["id"].as_i64().unwrap();
    for op in ["templates/sync", "phone-numbers/sync"] {
        let e = app.post(&format!("/api/v1/accounts/{a}/{op}"), &t.token, json!({})).await;
        assert!(e.text.contains("no Meta access token"), "{}", e.text);
        e.problem(409, "account_credentials_missing");
    }
    app.post(&format!("/api/v1/accounts/{a}/flows"), &t.token, json!({"name": "Sign up"}))
        .await
        .problem(409, "account_credentials_missing");
    // A token but no WABA id: the call has no path to go to.
    let no_waba = json!({"name": "W", "provider": "meta", "access_token": "EAAG-token-123456"});
    let w = app.post("/api/v1/accounts", &t.token, no_waba).await.expect(201)["id"].as_i64().unwrap();
    app.post(&format!("/api/v1/accounts/{w}/templates/sync"), &t.token, json!({}))
        .await
        .problem(409, "account_credentials_missing");
    nothing_sent(&fake).await;
    assert_eq!(app.get(&format!("/api/v1/accounts/{a}/flows"), &t.token).await.expect(200)["data"], json!([]));
}

#[actix_web::test]
async fn an_operation_tata_does_not_offer_is_a_422_not_a_bad_gateway() {
    let fake = MockServer::start().await;
    let uri = fake.uri();
    let app = spawn_app_with(|s| s.tata_base_url = uri).await;
    let t = app.signup("ann").await;
    let body = json!({"name": "Tata", "provider": "tata", "phone_number": {"phone_number": "+919876543210"}, "access_tokens": {"tata_auth_token": "tata.jwt.token"}, "business_profile": {"name": "T"}});
    let setup = app.post("/api/v1/accounts/setup", &t.token, body).await.expect(201);
    let a = setup["account"]["id"].as_i64().unwrap();
    for op in ["templates/sync", "phone-numbers/sync"] {
        let e = app.post(&format!("/api/v1/accounts/{a}/{op}"), &t.token, json!({})).await;
        assert!(e.text.contains("not supported by Tata"), "{}", e.text);
        e.problem(422, "not_supported_by_provider");
    }
    app.post(&format!("/api/v1/accounts/{a}/flows"), &t.token, json!({"name": "Sign up"}))
        .await
        .problem(422, "not_supported_by_provider");
    let phone = setup["phone_number"]["id"].as_i64().unwrap();
    let pid = json!({"provider_phone_number_id": "5555"});
    app.patch(&format!("/api/v1/phone-numbers/{phone}"), &t.token, pid).await.expect(200);
    app.post(&format!("/api/v1/phone-numbers/{phone}/register"), &t.token, json!({"pin": "123456"}))
        .await
        .problem(422, "not_supported_by_provider");
    nothing_sent(&fake).await;
    assert_eq!(app.get(&format!("/api/v1/accounts/{a}/flows"), &t.token).await.expect(200)["data"], json!([]));
}

#[actix_web::test]
async fn a_provider_that_fails_or_refuses_is_still_a_bad_gateway() {
    let (app, fake, t, setup) = meta_app().await;
    let a = setup["account"]["id"].as_i64().unwrap();
    Mock::given(method("GET")).respond_with(ResponseTemplate::new(503)).mount(&fake).await;
    app.post(&format!("/api/v1/accounts/{a}/templates/sync"), &t.token, json!({}))
        .await
        .problem(502, "ERR_PROVIDER_UNAVAILABLE");
}
