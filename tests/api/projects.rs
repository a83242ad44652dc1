//! Projects: brochure checks, IVR numbers unique per tenant, updates and deletion.

use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::*;

async fn brochure_server() -> MockServer {
    let fake = MockServer::start().await;
    Mock::given(method("HEAD"))
        .and(path("/brochure.pdf"))
        .respond_with(ResponseTemplate::new(200).insert_header("content-type", "application/pdf"))
        .mount(&fake)
        .await;
    fake
}

#[actix_web::test]
async fn projects_are_created_listed_changed_and_deleted() {
    let fake = brochure_server().await;
    let app = spawn_app_with(|s| s.allow_private_urls = true).await;
    let t = app.signup("proj-owner").await;
    let brochure = format!("{}/brochure.pdf", fake.uri());
    let created = app
        .post(
            "/api/v1/projects",
            &t.token,
            json!({"name": "Green Valley", "brochure_url": brochure, "deep_link_base_url": "https://example.com/gv",
                   "ivr_numbers": ["080 4567 0001", "+918045670002"]}),
        )
        .await
        .expect(201);
    let id = created["id"].as_i64().unwrap();
    assert_eq!(created["ivr_numbers"], json!(["+918045670001", "+918045670002"]));
    assert_eq!(created["brochure_url"], brochure);

    let list = app.get("/api/v1/projects", &t.token).await.expect(200);
    assert_eq!(list["data"].as_array().unwrap().len(), 1);

    let changed = app
        .patch(
            &format!("/api/v1/projects/{id}"),
            &t.token,
            json!({"name": "Green Valley 2", "brochure_url": null, "ivr_numbers": ["+918045670003"]}),
        )
        .await
        .expect(200);
    assert_eq!(changed["name"], "Green Valley 2");
    assert_eq!(changed["brochure_url"], serde_json::Value::Null);
    assert_eq!(changed["deep_link_base_url"], "https://example.com/gv");
    assert_eq!(changed["ivr_numbers"], json!(["+918045670003"]));

    app.delete(&format!("/api/v1/projects/{id}"), &t.token).await.expect(204);
    app.get(&format!("/api/v1/projects/{id}"), &t.token).await.problem(404, "not_found");
}

#[actix_web::test]
async fn bad_projects_are_refused_and_change_nothing() {
    let fake = brochure_server().await;
    let app = spawn_app_with(|s| s.allow_private_urls = true).await;
    let t = app.signup("proj-bad").await;
    app.post("/api/v1/projects", &t.token, json!({"name": "A", "ivr_numbers": ["+918045670001"]})).await.expect(201);

    let problem = app
        .post(
            "/api/v1/projects",
            &t.token,
            json!({"name": "B", "brochure_url": format!("{}/missing.pdf", fake.uri()), "deep_link_base_url": "ftp://x",
                   "ivr_numbers": ["12", "+918045670009", "8045670009"]}),
        )
        .await
        .problem(422, "validation_failed");
    assert_eq!(problem["errors"]["brochure_url"], json!(["media_unreachable"]));
    assert_eq!(problem["errors"]["deep_link_base_url"], json!(["invalid_url"]));
    assert_eq!(problem["errors"]["ivr_numbers[0]"], json!(["invalid_e164"]));
    assert_eq!(problem["errors"]["ivr_numbers[2]"], json!(["duplicate"]));

    app.post("/api/v1/projects", &t.token, json!({"name": "A"})).await.problem(409, "project_name_taken");
    app.post("/api/v1/projects", &t.token, json!({"name": "C", "ivr_numbers": ["08045670001"]}))
        .await
        .problem(409, "ivr_number_taken");
    app.post("/api/v1/projects", &t.token, json!({"name": ""})).await.problem(422, "validation_failed");
    let list = app.get("/api/v1/projects", &t.token).await.expect(200);
    assert_eq!(list["data"].as_array().unwrap().len(), 1, "nothing else was created");

    // Another tenant may use the same number and name.
    let other = app.signup("proj-other").await;
    app.post("/api/v1/projects", &other.token, json!({"name": "A", "ivr_numbers": ["+918045670001"]}))
        .await
        .expect(201);
}

#[actix_web::test]
async fn members_cannot_change_projects() {
    let app = spawn_app().await;
    let t = app.signup("proj-roles").await;
    app.post(
        "/api/v1/users",
        &t.token,
        json!({"email": "pm@example.com", "name": "M", "role": "member", "password": "memberpass"}),
    )
    .await
    .expect(201);
    let member = app.login("pm@example.com", "memberpass").await;
    app.post("/api/v1/projects", &member, json!({"name": "X"})).await.problem(403, "insufficient_role");
    app.get("/api/v1/projects", &member).await.expect(200);
}
