//! Accounts CRUD, secrets at rest, quotas and key rotation.

use serde_json::{Value, json};
use wabahub::domain::TenantId;

use crate::helpers::*;

const SECRETS: [&str; 4] =
    ["EAAG-access-token-XYZ123", "app-secret-ABC987", "verify-token-QWE456", "tata.jwt.token-RTY321"];

pub async fn meta_account(app: &TestApp, token: &str, name: &str) -> Value {
    app.post(
        "/api/v1/accounts",
        token,
        json!({"name": name, "provider": "meta", "waba_id": "1234", "access_token": SECRETS[0], "app_secret": SECRETS[1], "webhook_verify_token": SECRETS[2]}),
    )
    .await
    .expect(201)
}

#[actix_web::test]
async fn crud_and_write_only_secrets() {
    let app = spawn_app().await;
    let t = app.signup("ann").await;
    let a = meta_account(&app, &t.token, "Main").await;
    assert_eq!(a["status"], "pending_setup");
    assert_eq!(a["setup_step"], 0);
    assert_eq!(a["credentials"]["has_access_token"], true);
    assert_eq!(a["credentials"]["access_token_hint"], "****Z123");
    assert_eq!(a["credentials"]["has_tata_auth_token"], false);
    let id = a["id"].as_i64().unwrap();
    let text = app.get(&format!("/api/v1/accounts/{id}"), &t.token).await.text;
    for s in SECRETS {
        assert!(!text.contains(s), "secret {s} returned");
    }
    let sandbox = app.post("/api/v1/accounts", &t.token, json!({"name": "Try it"})).await.expect(201);
    assert_eq!(sandbox["provider"], "sandbox");
    let list = app.get("/api/v1/accounts", &t.token).await.expect(200);
    assert_eq!(list["data"].as_array().unwrap().len(), 2);
    let metas = app.get("/api/v1/accounts?provider=meta", &t.token).await.expect(200);
    assert_eq!(metas["data"].as_array().unwrap().len(), 1);
    app.get("/api/v1/accounts?provider=whatsapp", &t.token).await.problem(422, "validation_failed");

    let updated = app
        .patch(&format!("/api/v1/accounts/{id}"), &t.token, json!({"name": "Renamed", "tata_auth_token": SECRETS[3], "limits": {"messages_per_second": 10.0, "messages_per_day": 5000}}))
        .await
        .expect(200);
    assert_eq!(updated["name"], "Renamed");
    assert_eq!(updated["limits"]["messages_per_day"], 5000);
    assert_eq!(updated["credentials"]["has_tata_auth_token"], true);
    assert_eq!(updated["credentials"]["has_access_token"], true);
    app.patch(&format!("/api/v1/accounts/{id}"), &t.token, json!({"provider": "tata"}))
        .await
        .problem(422, "validation_failed");
    app.patch(&format!("/api/v1/accounts/{id}"), &t.token, json!({"status": "active"}))
        .await
        .problem(409, "setup_incomplete");
    let s = app.patch(&format!("/api/v1/accounts/{id}"), &t.token, json!({"status": "suspended"})).await.expect(200);
    assert_eq!(s["status"], "suspended");
    app.patch(&format!("/api/v1/accounts/{id}"), &t.token, json!({"limits": {"messages_per_day": 0}}))
        .await
        .problem(422, "validation_failed");

    assert_eq!(app.delete(&format!("/api/v1/accounts/{id}"), &t.token).await.status, 204);
    app.get(&format!("/api/v1/accounts/{id}"), &t.token).await.problem(404, "not_found");
    app.delete(&format!("/api/v1/accounts/{id}"), &t.token).await.problem(404, "not_found");
}

#[actix_web::test]
async fn validation_is_per_field_and_changes_nothing() {
    let app = spawn_app().await;
    let t = app.signup("ann").await;
    let res = app
        .post(
            "/api/v1/accounts",
            &t.token,
            json!({"provider": "meta", "business_profile": {"email": "nope", "website": "not a url"}, "bot_settings": {"timezone": "Mars/Base", "business_hours_start": "25:00"}}),
        )
        .await;
    let body = res.problem(422, "validation_failed");
    let errors = &body["errors"];
    for field in [
        "business_profile.email",
        "business_profile.website",
        "bot_settings.timezone",
        "bot_settings.business_hours_start",
    ] {
        assert!(errors[field].is_array(), "{field} missing in {errors}");
    }
    app.post("/api/v1/accounts", &t.token, json!({"provider": "meta"})).await.problem(422, "validation_failed");
    app.post("/api/v1/accounts", &t.token, json!({"name": "x", "provider": "whatsapp"}))
        .await
        .problem(422, "validation_failed");
    app.post("/api/v1/accounts", &t.token, json!({"name": "x", "subscribed_events": ["nope"]}))
        .await
        .problem(422, "validation_failed");
    app.post("/api/v1/accounts", &t.token, json!({"name": "x", "surprise": 1})).await.problem(422, "validation_failed");
    let list = app.get("/api/v1/accounts", &t.token).await.expect(200);
    assert_eq!(list["data"].as_array().unwrap().len(), 0);
}

#[actix_web::test]
async fn members_read_but_cannot_write() {
    let app = spawn_app().await;
    let t = app.signup("ann").await;
    let a = meta_account(&app, &t.token, "Main").await;
    app.post(
        "/api/v1/users",
        &t.token,
        json!({"email": "m@example.com", "name": "M", "role": "member", "password": "memberpass"}),
    )
    .await
    .expect(201);
    let m = app.login("m@example.com", "memberpass").await;
    app.get(&format!("/api/v1/accounts/{}", a["id"]), &m).await.expect(200);
    app.post("/api/v1/accounts", &m, json!({"name": "x"})).await.problem(403, "insufficient_role");
    app.delete(&format!("/api/v1/accounts/{}", a["id"]), &m).await.problem(403, "insufficient_role");
}

#[actix_web::test]
async fn account_quota_is_enforced() {
    let app = spawn_app().await;
    let t = app.signup("ann").await;
    let root = app.platform_admin().await;
    app.put(&format!("/api/v1/admin/tenants/{}/quotas", t.id), &root, json!({"max_accounts": 1})).await.expect(200);
    app.post("/api/v1/accounts", &t.token, json!({"name": "one"})).await.expect(201);
    app.post("/api/v1/accounts", &t.token, json!({"name": "two"})).await.problem(409, "account_quota_exceeded");
    let usage = app.get(&format!("/api/v1/admin/tenants/{}", t.id), &root).await.expect(200);
    assert_eq!(usage["usage"]["accounts"], 1);
}

#[actix_web::test]
async fn secrets_are_encrypted_at_rest_and_keys_rotate() {
    let app = spawn_app().await;
    let t = app.signup("ann").await;
    let a = meta_account(&app, &t.token, "Main").await;
    app.patch(&format!("/api/v1/accounts/{}", a["id"]), &t.token, json!({"tata_auth_token": SECRETS[3]}))
        .await
        .expect(200);
    let dump = raw_dump(&app).await;
    assert!(dump.contains("Main"), "the dump must see stored data");
    for s in SECRETS {
        assert!(!dump.contains(s), "plaintext secret {s} found in the database");
    }

    let old_key = app.state.settings.fernet_keys[0].clone();
    let new_key = fernet::Fernet::generate_key();
    let mut settings = (*app.state.settings).clone();
    settings.fernet_keys = vec![new_key.clone(), old_key];
    let db = app.state.db.clone();
    let id = a["id"].as_i64().unwrap();
    let tenant = TenantId(t.id);
    let (rotated, again, stored) = actix_web::web::block(move || {
        let rotated = wabahub::cli::rotate_keys(&settings, &db).unwrap();
        let again = wabahub::cli::rotate_keys(&settings, &db).unwrap();
        let stored = wabahub::store::accounts::get(&mut db.get().unwrap(), tenant, id).unwrap().unwrap();
        (rotated, again, stored)
    })
    .await
    .unwrap();
    assert_eq!(rotated, 4);
    assert_eq!(again, 0);
    let only_new = wabahub::crypto::Vault::new(&[new_key]).unwrap();
    assert_eq!(only_new.decrypt(stored.access_token_enc.as_deref().unwrap()).unwrap(), SECRETS[0]);
    assert_eq!(only_new.decrypt(stored.tata_auth_token_enc.as_deref().unwrap()).unwrap(), SECRETS[3]);
}
