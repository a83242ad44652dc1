//! Tenant users and roles.

use serde_json::json;

use crate::helpers::*;

#[actix_web::test]
async fn owner_manages_users_and_roles() {
    let app = spawn_app().await;
    let t = app.signup("ann").await;
    let bob = app
        .post(
            "/api/v1/users",
            &t.token,
            json!({"email": "bob@example.com", "name": "Bob", "role": "admin", "password": "bobpassword"}),
        )
        .await
        .expect(201);
    assert_eq!(bob["role"], "admin");
    assert!(bob.get("temporary_password").is_none());
    let carl = app
        .post("/api/v1/users", &t.token, json!({"email": "carl@example.com", "name": "Carl", "role": "member"}))
        .await
        .expect(201);
    let temp = carl["temporary_password"].as_str().unwrap();
    let carl_token = app.login("carl@example.com", temp).await;
    let list = app.get("/api/v1/users?limit=2", &t.token).await.expect(200);
    assert_eq!(list["data"].as_array().unwrap().len(), 2);
    let next = list["next_cursor"].as_str().unwrap();
    let rest = app.get(&format!("/api/v1/users?limit=2&cursor={next}"), &t.token).await.expect(200);
    assert_eq!(rest["data"].as_array().unwrap().len(), 1);
    assert!(rest["next_cursor"].is_null());

    // Members cannot manage users.
    app.post("/api/v1/users", &carl_token, json!({"email": "d@example.com", "name": "D", "role": "member"}))
        .await
        .problem(403, "insufficient_role");
    // Admins cannot create or touch owners.
    let bob_token = app.login("bob@example.com", "bobpassword").await;
    app.post("/api/v1/users", &bob_token, json!({"email": "e@example.com", "name": "E", "role": "owner"}))
        .await
        .problem(403, "insufficient_role");
    app.delete(&format!("/api/v1/users/{}", t.user_id), &bob_token).await.problem(403, "insufficient_role");
    let carl_id = carl["id"].as_i64().unwrap();
    let updated =
        app.patch(&format!("/api/v1/users/{carl_id}"), &bob_token, json!({"role": "admin"})).await.expect(200);
    assert_eq!(updated["role"], "admin");
    // Role changes take effect on the next request, without a new token.
    app.get("/api/v1/api-keys", &carl_token).await.expect(200);

    // The last owner stays.
    app.patch(&format!("/api/v1/users/{}", t.user_id), &t.token, json!({"role": "member"}))
        .await
        .problem(409, "last_owner");
    app.delete(&format!("/api/v1/users/{}", t.user_id), &t.token).await.problem(409, "last_owner");
    // Removing a user ends its access.
    assert_eq!(app.delete(&format!("/api/v1/users/{carl_id}"), &t.token).await.status, 204);
    app.get("/api/v1/me", &carl_token).await.problem(401, "invalid_token");
    app.patch(&format!("/api/v1/users/{carl_id}"), &t.token, json!({"role": "unknown"}))
        .await
        .problem(422, "validation_failed");
}

#[actix_web::test]
async fn duplicate_user_email_conflicts() {
    let app = spawn_app().await;
    let t = app.signup("ann").await;
    app.post("/api/v1/users", &t.token, json!({"email": "ann@example.com", "name": "A", "role": "member"}))
        .await
        .problem(409, "email_taken");
}
