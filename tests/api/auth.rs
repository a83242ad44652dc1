//! Signup, login, refresh rotation, logout, /me, API-key auth and suspension.

use serde_json::{Value, json};
use wabahub::config::Settings;

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
    let expired = wabahub::auth::jwt::JwtKeys::new(&app.state.settings.jwt_secret, -60).issue(t.user_id, t.id, 1);
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

/// Signs in and returns (access token, refresh token): a second session of the same user.
async fn login_pair(app: &TestApp, email: &str) -> (String, String) {
    let body = app
        .call("POST", "/api/v1/auth/login", None, Some(json!({"email": email, "password": "password123"})))
        .await
        .expect(200);
    (body["access_token"].as_str().unwrap().to_string(), body["refresh_token"].as_str().unwrap().to_string())
}

fn refresh_body(token: &str) -> Option<Value> {
    Some(json!({"refresh_token": token}))
}

#[actix_web::test]
async fn parallel_refreshes_have_one_winner_and_reuse_signs_every_session_out() {
    let app = spawn_app().await;
    let t = app.signup("ann").await;
    let (other_access, other_refresh) = login_pair(&app, "ann@example.com").await;
    let key = app.post("/api/v1/api-keys", &t.token, json!({"name": "CRM", "role": "admin"})).await.expect(201);
    let key = key["key"].as_str().unwrap();

    let attempts = (0..12).map(|_| app.call("POST", "/api/v1/auth/refresh", None, refresh_body(&t.refresh_token)));
    let results = futures_util::future::join_all(attempts).await;
    let (winners, losers): (Vec<_>, Vec<_>) = results.into_iter().partition(|r| r.status == 200);
    assert_eq!(winners.len(), 1, "exactly one refresh wins");
    assert_eq!(losers.len(), 11);
    for loser in losers {
        loser.problem(401, "refresh_token_reused");
    }
    let winner = &winners[0].body;
    let (new_access, new_refresh) =
        (winner["access_token"].as_str().unwrap(), winner["refresh_token"].as_str().unwrap());

    // The README: "reuse signs every session out" — the winner's new tokens, the first session's
    // access token and the user's other session are all refused; API keys are not sessions.
    app.call("POST", "/api/v1/auth/refresh", None, refresh_body(new_refresh))
        .await
        .problem(401, "refresh_token_reused");
    app.get("/api/v1/me", new_access).await.problem(401, "invalid_token");
    app.get("/api/v1/me", &t.token).await.problem(401, "invalid_token");
    app.get("/api/v1/me", &other_access).await.problem(401, "invalid_token");
    app.call("POST", "/api/v1/auth/refresh", None, refresh_body(&other_refresh))
        .await
        .problem(401, "refresh_token_reused");
    app.get("/api/v1/me", key).await.expect(200);
    // Signing in again starts a fresh session.
    let (access, refresh) = login_pair(&app, "ann@example.com").await;
    app.get("/api/v1/me", &access).await.expect(200);
    app.call("POST", "/api/v1/auth/refresh", None, refresh_body(&refresh)).await.expect(200);
}

#[actix_web::test]
async fn logout_stops_the_sessions_access_token_at_once() {
    let app = spawn_app().await;
    let t = app.signup("ann").await;
    let (other_access, other_refresh) = login_pair(&app, "ann@example.com").await;
    let key = app.post("/api/v1/api-keys", &t.token, json!({"name": "CRM", "role": "admin"})).await.expect(201);
    let key = key["key"].as_str().unwrap();
    // A refreshed access token belongs to the same session as the first one.
    let rotated = app.call("POST", "/api/v1/auth/refresh", None, refresh_body(&t.refresh_token)).await.expect(200);
    let (rotated_access, rotated_refresh) =
        (rotated["access_token"].as_str().unwrap(), rotated["refresh_token"].as_str().unwrap());
    app.get("/api/v1/me", &t.token).await.expect(200);
    app.get("/api/v1/me", rotated_access).await.expect(200);

    let res = app.call("POST", "/api/v1/auth/logout", None, refresh_body(rotated_refresh)).await;
    assert_eq!(res.status, 204);
    app.get("/api/v1/me", &t.token).await.problem(401, "invalid_token");
    app.get("/api/v1/me", rotated_access).await.problem(401, "invalid_token");
    app.get("/api/v1/accounts", rotated_access).await.problem(401, "invalid_token");
    // The user's other session and the tenant's API keys go on.
    app.get("/api/v1/me", &other_access).await.expect(200);
    app.get("/api/v1/me", key).await.expect(200);
    app.call("POST", "/api/v1/auth/refresh", None, refresh_body(&other_refresh)).await.expect(200);
}

/// Client addresses are presented through `X-Forwarded-For` from the tests' own address, which
/// these apps trust as a proxy.
fn behind_proxy(s: &mut Settings) {
    s.trusted_proxies = vec!["127.0.0.1/32".parse().unwrap()];
}

async fn post_from(app: &TestApp, addr: &str, path: &str, body: Value) -> Res {
    let res = app.client.post(app.url(path)).header("x-forwarded-for", addr).json(&body).send().await.unwrap();
    TestApp::read(res).await
}

async fn login_from(app: &TestApp, addr: &str, password: &str) -> Res {
    post_from(app, addr, "/api/v1/auth/login", json!({"email": "ann@example.com", "password": password})).await
}

fn retry_after(res: &Res) -> u64 {
    res.headers.get("retry-after").unwrap().to_str().unwrap().parse().unwrap()
}

#[actix_web::test]
async fn one_address_guessing_does_not_lock_the_right_password_out_elsewhere() {
    let app = spawn_app_with(behind_proxy).await;
    app.signup("ann").await;
    for _ in 0..5 {
        login_from(&app, "203.0.113.7", "wrong-password").await.problem(401, "invalid_credentials");
    }
    let blocked = login_from(&app, "203.0.113.7", "password123").await;
    let wait = retry_after(&blocked);
    assert!((1..=30).contains(&wait), "first backoff is at most 30 s, got {wait}");
    blocked.problem(429, "rate_limited");
    let ok = login_from(&app, "198.51.100.9", "password123").await.expect(200);
    app.get("/api/v1/me", ok["access_token"].as_str().unwrap()).await.expect(200);
    login_from(&app, "203.0.113.7", "password123").await.problem(429, "rate_limited");
}

#[actix_web::test]
async fn x_forwarded_for_is_ignored_unless_the_peer_is_a_trusted_proxy() {
    let app = spawn_app().await;
    app.signup("ann").await;
    for i in 0..5 {
        login_from(&app, &format!("10.9.9.{i}"), "wrong-password").await.problem(401, "invalid_credentials");
    }
    login_from(&app, "198.51.100.9", "password123").await.problem(429, "rate_limited");
}

#[actix_web::test]
async fn many_addresses_against_one_email_slow_it_down_without_locking_it() {
    let app = spawn_app_with(|s| {
        behind_proxy(s);
        s.login_max_failures = 2;
        s.login_max_failures_per_email = 6;
    })
    .await;
    app.signup("ann").await;
    for i in 0..6 {
        login_from(&app, &format!("192.0.2.{i}"), "wrong-password").await.problem(401, "invalid_credentials");
    }
    let slowed = login_from(&app, "198.51.100.9", "password123").await;
    let wait = retry_after(&slowed);
    assert!((1..=30).contains(&wait), "a short slowdown, got {wait} s");
    slowed.problem(429, "rate_limited");
    tokio::time::sleep(std::time::Duration::from_secs(wait)).await;
    login_from(&app, "198.51.100.9", "password123").await.expect(200);
}

#[actix_web::test]
async fn signups_are_limited_per_address() {
    let app = spawn_app_with(|s| {
        behind_proxy(s);
        s.signup_max_per_address = 2;
    })
    .await;
    let signup = |n: &str| json!({"tenant_name": "T", "name": n, "email": format!("{n}@example.com"), "password": "password123"});
    post_from(&app, "203.0.113.7", "/api/v1/auth/signup", signup("a1")).await.expect(201);
    post_from(&app, "203.0.113.7", "/api/v1/auth/signup", signup("a2")).await.expect(201);
    let refused = post_from(&app, "203.0.113.7", "/api/v1/auth/signup", signup("a3")).await;
    let wait = retry_after(&refused);
    assert!((1..=3600).contains(&wait), "retry within the hour, got {wait}");
    refused.problem(429, "rate_limited");
    post_from(&app, "198.51.100.9", "/api/v1/auth/signup", signup("b1")).await.expect(201);
    // The refused signup created nothing.
    post_from(
        &app,
        "198.51.100.9",
        "/api/v1/auth/login",
        json!({"email": "a3@example.com", "password": "password123"}),
    )
    .await
    .problem(401, "invalid_credentials");
}
