//! The platform admin API and tenant suspension.

use serde_json::json;

use crate::helpers::*;

#[actix_web::test]
async fn platform_admin_lists_creates_and_sets_quotas() {
    let app = spawn_app().await;
    let t = app.signup("ann").await;
    app.get("/api/v1/admin/tenants", &t.token).await.problem(403, "platform_admin_required");
    let root = app.platform_admin().await;
    let list = app.get("/api/v1/admin/tenants", &root).await.expect(200);
    let ann = list["data"].as_array().unwrap().iter().find(|x| x["id"] == t.id).unwrap().clone();
    assert_eq!(ann["usage"]["users"], 1);
    assert_eq!(ann["usage"]["accounts"], 0);

    let created = app
        .post(
            "/api/v1/admin/tenants",
            &root,
            json!({"name": "Beta", "owner": {"email": "b@example.com", "name": "B", "password": "bpassword"}}),
        )
        .await
        .expect(201);
    assert_eq!(created["owner"]["role"], "owner");
    let beta = created["tenant"]["id"].as_i64().unwrap();
    app.login("b@example.com", "bpassword").await;

    let q = app
        .put(
            &format!("/api/v1/admin/tenants/{beta}/quotas"),
            &root,
            json!({"max_accounts": 3, "daily_message_quota": 1000}),
        )
        .await
        .expect(200);
    assert_eq!(q["max_accounts"], 3);
    assert_eq!(q["daily_message_quota"], 1000);
    app.put(&format!("/api/v1/admin/tenants/{beta}/quotas"), &root, json!({"max_accounts": -1}))
        .await
        .problem(422, "validation_failed");
    app.get("/api/v1/admin/tenants/999999", &root).await.problem(404, "not_found");
    let one = app.get(&format!("/api/v1/admin/tenants/{beta}"), &root).await.expect(200);
    assert_eq!(one["usage"]["users"], 1);
}

#[actix_web::test]
async fn suspension_blocks_users_and_keys_until_reactivated() {
    let app = spawn_app().await;
    let t = app.signup("ann").await;
    let key = app.post("/api/v1/api-keys", &t.token, json!({"name": "k"})).await.expect(201)["key"]
        .as_str()
        .unwrap()
        .to_string();
    let root = app.platform_admin().await;
    let s = app.post(&format!("/api/v1/admin/tenants/{}/suspend", t.id), &root, json!({})).await.expect(200);
    assert_eq!(s["status"], "suspended");
    app.get("/api/v1/me", &t.token).await.problem(403, "tenant_suspended");
    app.get("/api/v1/me", &key).await.problem(403, "tenant_suspended");
    app.call("POST", "/api/v1/auth/refresh", None, Some(json!({"refresh_token": t.refresh_token})))
        .await
        .problem(403, "tenant_suspended");
    app.post(&format!("/api/v1/admin/tenants/{}/reactivate", t.id), &root, json!({})).await.expect(200);
    app.get("/api/v1/me", &t.token).await.expect(200);
    app.get("/api/v1/me", &key).await.expect(200);
}

#[actix_web::test]
async fn platform_admin_acts_inside_a_tenant_with_header() {
    let app = spawn_app().await;
    let t = app.signup("ann").await;
    let root = app.platform_admin().await;
    let res = app
        .client
        .get(app.url("/api/v1/users"))
        .bearer_auth(&root)
        .header("x-tenant-id", t.id.to_string())
        .send()
        .await
        .unwrap();
    let users = TestApp::read(res).await.expect(200);
    assert_eq!(users["data"][0]["email"], "ann@example.com");
    let res =
        app.client.get(app.url("/api/v1/users")).bearer_auth(&t.token).header("x-tenant-id", "1").send().await.unwrap();
    TestApp::read(res).await.problem(403, "platform_admin_required");
}
