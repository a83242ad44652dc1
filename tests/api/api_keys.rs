//! API keys: shown once, stored hashed, revocable, scoped to the tenant and a role.

use serde_json::json;

use crate::helpers::*;

#[actix_web::test]
async fn create_use_list_and_revoke() {
    let app = spawn_app().await;
    let t = app.signup("ann").await;
    let created = app.post("/api/v1/api-keys", &t.token, json!({"name": "CRM", "role": "admin"})).await.expect(201);
    let key = created["key"].as_str().unwrap().to_string();
    assert!(key.starts_with("whk_"));
    assert_eq!(created["prefix"].as_str().unwrap(), &key[..12]);
    let me = app.get("/api/v1/me", &key).await.expect(200);
    assert_eq!(me["tenant"]["id"], t.id);
    assert!(me["user"].is_null());
    assert_eq!(me["role"], "admin");
    let list = app.get("/api/v1/api-keys", &t.token).await.expect(200);
    assert_eq!(list["data"][0]["prefix"], created["prefix"]);
    assert!(list["data"][0].get("key").is_none());
    assert!(!list.to_string().contains(&key));
    // The key is stored hashed.
    let raw = raw_dump(&app).await;
    assert!(!raw.contains(&key), "plaintext API key found in the database");

    let id = created["id"].as_i64().unwrap();
    assert_eq!(app.delete(&format!("/api/v1/api-keys/{id}"), &t.token).await.status, 204);
    app.get("/api/v1/me", &key).await.problem(401, "invalid_api_key");
}

#[actix_web::test]
async fn member_keys_cannot_manage() {
    let app = spawn_app().await;
    let t = app.signup("ann").await;
    let created = app.post("/api/v1/api-keys", &t.token, json!({"name": "ro"})).await.expect(201);
    assert_eq!(created["role"], "member");
    let key = created["key"].as_str().unwrap();
    app.post("/api/v1/api-keys", key, json!({"name": "x"})).await.problem(403, "insufficient_role");
    app.post("/api/v1/api-keys", &t.token, json!({"name": "x", "role": "owner"}))
        .await
        .problem(422, "validation_failed");
}
