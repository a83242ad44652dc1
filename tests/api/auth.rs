//! Signup, login, refresh rotation, logout, /me, API-key auth and suspension.

use serde_json::json;

use crate::helpers::*;

#[actix_web::test]
async fn signup_login_and_me() {
    let app = spawn_app().await;
    let t = app.signup("ann").await;
    let me = app.get("/api/v1/me", &t.token).await.expect(200);
    assert_eq!(me["user"]["email"], "ann@example.com");
    assert_eq!(me["role"], "owner");
    assert_eq!(me["tenant"]["id"], t.id);
    assert!(me["user"].get("password_hash").is_none());
    let token = app.login("ANN@example.com ", "password123").await;
    app.get("/api/v1/me", &token).await.expect(200);
    app.call(
        "POST",
        "/api/v1/auth/signup",
        None,
        Some(json!({"tenant_name": "X", "name": "A", "email": "ann@example.com", "password": "password123"})),
    )
    .await
    .problem(409, "email_taken");
}

#[actix_web::test]
async fn bad_tokens_are_401() {
    let app = spawn_app().await;
    let t = app.signup("ann").await;
    app.call("GET", "/api/v1/me", None, None).await.problem(401, "missing_credentials");
    app.get("/api/v1/me", "garbage").await.problem(401, "invalid_token");
    let mut tampered = t.token.clone();
    tampered.push('x');
    app.get("/api/v1/me", &tampered).await.problem(401, "invalid_token");
    app.get("/api/v1/me", "whk_unknown").await.problem(401, "invalid_api_key");
    let res = app
        .client
        .get(app.url("/api/v1/me"))
        .header("authorization", format!("Token {}", t.token))
        .send()
        .await
        .unwrap();
    TestApp::read(res).await.problem(401, "invalid_credentials");
}

#[actix_web::test]
async fn expired_access_tokens_are_refused() {
    let app = spawn_app_with(|s| s.access_token_ttl_secs = 1).await;
    let t = app.signup("ann").await;
    app.get("/api/v1/me", &t.token).await.expect(200);
    let expired = wabahub::auth::jwt::JwtKeys::new(&app.state.settings.jwt_secret, -60).issue(t.user_id, t.id);
    app.get("/api/v1/me", &expired).await.problem(401, "invalid_token");
}

#[actix_web::test]
async fn refresh_rotates_and_detects_reuse() {
    let app = spawn_app().await;
    let t = app.signup("ann").await;
    let r1 = app
        .call("POST", "/api/v1/auth/refresh", None, Some(json!({"refresh_token": t.refresh_token})))
        .await
        .expect(200);
    let new_refresh = r1["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(new_refresh, t.refresh_token);
    app.get("/api/v1/me", r1["access_token"].as_str().unwrap()).await.expect(200);
    // Reusing the old token signs out every session, including the rotated one.
    app.call("POST", "/api/v1/auth/refresh", None, Some(json!({"refresh_token": t.refresh_token})))
        .await
        .problem(401, "refresh_token_reused");
    app.call("POST", "/api/v1/auth/refresh", None, Some(json!({"refresh_token": new_refresh})))
        .await
        .problem(401, "refresh_token_reused");
    app.call("POST", "/api/v1/auth/refresh", None, Some(json!({"refresh_token": "whr_nope"})))
        .await
        .problem(401, "invalid_refresh_token");
}

#[actix_web::test]
async fn logout_revokes_the_refresh_token() {
    let app = spawn_app().await;
    let t = app.signup("ann").await;
    let res = app.call("POST", "/api/v1/auth/logout", None, Some(json!({"refresh_token": t.refresh_token}))).await;
    assert_eq!(res.status, 204);
    app.call("POST", "/api/v1/auth/refresh", None, Some(json!({"refresh_token": t.refresh_token})))
        .await
        .problem(401, "refresh_token_reused");
}

#[actix_web::test]
async fn login_failures_are_rate_limited() {
    let app = spawn_app().await;
    app.signup("ann").await;
    for _ in 0..5 {
        app.call(
            "POST",
            "/api/v1/auth/login",
            None,
            Some(json!({"email": "ann@example.com", "password": "wrong-password"})),
        )
        .await
        .problem(401, "invalid_credentials");
    }
    let res = app
        .call("POST", "/api/v1/auth/login", None, Some(json!({"email": "ann@example.com", "password": "password123"})))
        .await;
    let retry: u64 = res.headers.get("retry-after").unwrap().to_str().unwrap().parse().unwrap();
    assert!(retry > 0 && retry <= 900);
    res.problem(429, "rate_limited");
    // Unknown emails count too, and per-IP limits cover spraying across emails.
    for i in 0..15 {
        app.call(
            "POST",
            "/api/v1/auth/login",
            None,
            Some(json!({"email": format!("x{i}@example.com"), "password": "nope-nope"})),
        )
        .await
        .problem(401, "invalid_credentials");
    }
    app.call("POST", "/api/v1/auth/login", None, Some(json!({"email": "other@example.com", "password": "nope-nope"})))
        .await
        .problem(429, "rate_limited");
}

#[actix_web::test]
async fn signup_can_be_switched_off() {
    let app = spawn_app_with(|s| s.allow_signup = false).await;
    app.call(
        "POST",
        "/api/v1/auth/signup",
        None,
        Some(json!({"tenant_name": "T", "name": "A", "email": "a@b.co", "password": "password1"})),
    )
    .await
    .problem(403, "signup_disabled");
}
