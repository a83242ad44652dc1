//! Probes, docs, the OpenAPI document, and bad input that must never be a 500.

use serde_json::json;

use crate::helpers::*;

#[actix_web::test]
async fn health_ready_and_metrics() {
    let app = spawn_app().await;
    let res = app.call("GET", "/healthz", None, None).await;
    assert_eq!(res.status, 200);
    assert!(res.headers.contains_key("x-request-id"));
    assert_eq!(app.call("GET", "/readyz", None, None).await.text, "ready");
    let metrics = app.call("GET", "/metrics", None, None).await.text;
    assert!(metrics.contains("wabahub_http_requests_total{method=\"GET\",status=\"2xx\"}"), "{metrics}");
    assert!(metrics.contains("wabahub_db_pool_connections"));
}

#[actix_web::test]
async fn serves_spec_and_docs() {
    let app = spawn_app().await;
    let spec = app.call("GET", "/openapi.json", None, None).await.expect(200);
    assert_eq!(spec["openapi"], "3.1.0");
    assert!(spec["paths"]["/api/v1/auth/login"]["post"].is_object());
    let docs = app.client.get(app.url("/docs/index.html")).send().await.unwrap();
    assert_eq!(docs.status(), 200);
    assert!(docs.text().await.unwrap().contains("swagger"));
    let redirect = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let res = redirect.get(app.url("/docs")).send().await.unwrap();
    assert_eq!(res.status(), 302);
}

#[test]
fn committed_openapi_is_current() {
    let current = wabahub::openapi::spec_json();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");
    if std::env::var("UPDATE_OPENAPI").is_ok() {
        std::fs::create_dir_all(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi")).unwrap();
        std::fs::write(path, &current).unwrap();
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == current,
        "openapi/openapi.json is stale: run `UPDATE_OPENAPI=1 cargo test --test api committed_openapi`"
    );
}

#[test]
fn every_operation_is_documented() {
    let spec: serde_json::Value = serde_json::from_str(&wabahub::openapi::spec_json()).unwrap();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"].as_str().unwrap_or_default();
            assert!(!id.is_empty(), "{method} {path} has no operation id");
            assert!(op["tags"].as_array().is_some_and(|t| !t.is_empty()), "{id} has no tag");
            if path.starts_with("/api/v1/") && !path.starts_with("/api/v1/auth/") {
                assert!(op["security"].is_array(), "{id} declares no security");
                assert!(op["responses"]["401"].is_object(), "{id} documents no 401");
            }
        }
    }
}

#[actix_web::test]
async fn unknown_routes_and_methods_are_problems() {
    let app = spawn_app().await;
    app.call("GET", "/api/v1/nope", None, None).await.problem(404, "not_found");
    let t = app.signup("ann").await;
    app.get("/api/v1/users/abc", &t.token).await.problem(404, "not_found");
    app.get("/api/v1/users?limit=0", &t.token).await.problem(422, "validation_failed");
    app.get("/api/v1/users?limit=abc", &t.token).await.problem(422, "validation_failed");
    app.get("/api/v1/users?cursor=%%%", &t.token).await.problem(422, "validation_failed");
}

#[actix_web::test]
async fn bad_bodies_are_4xx_and_change_nothing() {
    let app = spawn_app().await;
    let signup = "/api/v1/auth/signup";
    let res = app
        .client
        .post(app.url(signup))
        .header("content-type", "application/json")
        .body("{\"tenant_name\":")
        .send()
        .await
        .unwrap();
    TestApp::read(res).await.problem(400, "malformed_json");
    let res = app.client.post(app.url(signup)).header("content-type", "text/plain").body("hi").send().await.unwrap();
    TestApp::read(res).await.problem(415, "unsupported_media_type");
    let res = app
        .call(
            "POST",
            signup,
            None,
            Some(json!({"tenant_name": 5, "name": "a", "email": "a@b.co", "password": "password1"})),
        )
        .await;
    assert_eq!(res.problem(422, "validation_failed")["errors"]["tenant_name"], json!(["invalid_type"]));
    let res =
        app.call("POST", signup, None, Some(json!({"name": "a", "email": "a@b.co", "password": "password1"}))).await;
    assert_eq!(res.problem(422, "validation_failed")["errors"]["tenant_name"], json!(["required"]));
    let big = "x".repeat(100 * 1024);
    let res = app
        .call(
            "POST",
            signup,
            None,
            Some(json!({"tenant_name": big, "name": "a", "email": "a@b.co", "password": "password1"})),
        )
        .await;
    res.problem(413, "payload_too_large");
    // None of the refused signups created anything: the email is still free.
    app.call(
        "POST",
        signup,
        None,
        Some(json!({"tenant_name": "T", "name": "a", "email": "a@b.co", "password": "password1"})),
    )
    .await
    .expect(201);
}
