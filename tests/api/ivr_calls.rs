//! IVR call logs: one or a batch, leads created or linked, projects by IVR number, duplicates.

use serde_json::{Value, json};

use crate::helpers::*;

fn call(caller: &str, to: &str, duration: i64, start: &str) -> Value {
    json!({"caller_id_number": caller, "call_to_number": to, "duration": duration, "start_stamp": start})
}

#[actix_web::test]
async fn calls_create_leads_link_projects_and_dedupe() {
    let app = spawn_app().await;
    let t = app.signup("ivr-owner").await;
    let project = app
        .post("/api/v1/projects", &t.token, json!({"name": "Skyline", "ivr_numbers": ["+918045670001"]}))
        .await
        .expect(201)["id"]
        .as_i64()
        .unwrap();

    let one = app
        .post("/api/v1/ivr-calls", &t.token, call("09876541616", "8045670001", 42, "2026-11-20 10:15:00"))
        .await
        .expect(201);
    assert_eq!(one["caller_id_number"], "+919876541616");
    assert_eq!(one["status"], "answered");
    assert_eq!(one["project_id"], project);
    assert_eq!(one["lead_created"], true);
    let lead = one["lead_id"].as_i64().unwrap();

    let again = app
        .post("/api/v1/ivr-calls", &t.token, call("+919876541616", "+918045670001", 42, "2026-11-20T10:15:00Z"))
        .await
        .expect(200);
    assert_eq!(again["duplicate"], true);
    assert_eq!(again["id"], one["id"]);

    let batch = app
        .post(
            "/api/v1/ivr-calls/batch",
            &t.token,
            json!({"calls": [
                call("9876541616", "8045670001", 0, "2026-11-21T08:00:00+05:30"),
                call("anonymous", "8045670001", 0, "2026-11-21T09:00:00Z"),
                call("7000000001", "8045679999", 12, "2026-11-21T09:30:00Z"),
                call("9876541616", "8045670001", 42, "2026-11-20T10:15:00Z"),
            ]}),
        )
        .await
        .expect(200);
    assert_eq!(batch["created"], 3);
    assert_eq!(batch["duplicates"], 1);
    assert_eq!(batch["leads_created"], 1);
    assert_eq!(batch["invalid_callers"], 1);
    let calls = batch["calls"].as_array().unwrap();
    assert_eq!(calls[0]["status"], "missed");
    assert_eq!(calls[0]["lead_id"], lead, "the same caller is the same lead");
    assert_eq!(calls[0]["start_stamp"], "2026-11-21T02:30:00Z");
    assert_eq!(calls[1]["lead_id"], Value::Null);
    assert_eq!(calls[1]["caller_id_number"], "anonymous");
    assert_eq!(calls[2]["project_id"], Value::Null, "an unknown IVR number has no project");

    let missed = app.get("/api/v1/ivr-calls?status=missed", &t.token).await.expect(200);
    assert_eq!(missed["data"].as_array().unwrap().len(), 2);
    let mine = app.get("/api/v1/ivr-calls?caller=9876541616&from=2026-11-21&to=2026-11-21", &t.token).await.expect(200);
    assert_eq!(mine["data"].as_array().unwrap().len(), 1);
    let by_project = app.get(&format!("/api/v1/ivr-calls?project_id={project}"), &t.token).await.expect(200);
    assert_eq!(by_project["data"].as_array().unwrap().len(), 3);
    let got = app.get(&format!("/api/v1/ivr-calls/{}", one["id"]), &t.token).await.expect(200);
    assert_eq!(got["duration"], 42);
}

#[actix_web::test]
async fn a_bad_call_refuses_the_whole_batch() {
    let app = spawn_app().await;
    let t = app.signup("ivr-bad").await;
    let problem = app
        .post(
            "/api/v1/ivr-calls/batch",
            &t.token,
            json!({"calls": [
                call("9876541616", "8045670001", 3, "2026-11-20T10:15:00Z"),
                call("9876541617", "12", 3, "2026-11-20T10:15:00Z"),
                call("9876541618", "8045670001", -1, "2026-11-20T10:15:00Z"),
            ]}),
        )
        .await
        .problem(422, "validation_failed");
    assert_eq!(problem["errors"]["calls[2].duration"], json!(["range"]));
    let problem = app
        .post(
            "/api/v1/ivr-calls/batch",
            &t.token,
            json!({"calls": [call("9876541616", "8045670001", 3, "2026-11-20T10:15:00Z"), call("9876541617", "12", 3, "2026-11-20T10:15:00Z")]}),
        )
        .await
        .problem(422, "validation_failed");
    assert_eq!(problem["errors"]["calls[1].call_to_number"], json!(["invalid_e164"]));
    app.post("/api/v1/ivr-calls", &t.token, call("9876541616", "8045670001", 3, "yesterday"))
        .await
        .problem(422, "validation_failed");
    app.post("/api/v1/ivr-calls/batch", &t.token, json!({"calls": []})).await.problem(422, "validation_failed");
    let too_many: Vec<Value> = (0..1001).map(|i| call("9876541616", "8045670001", i, "2026-11-20T10:15:00Z")).collect();
    let app_big = spawn_app_with(|s| s.max_body_bytes = 1 << 20).await;
    let tb = app_big.signup("ivr-big").await;
    app_big
        .post("/api/v1/ivr-calls/batch", &tb.token, json!({"calls": too_many}))
        .await
        .problem(422, "validation_failed");
    let list = app.get("/api/v1/ivr-calls", &t.token).await.expect(200);
    assert_eq!(list["data"].as_array().unwrap().len(), 0, "nothing was stored");
    app.get("/api/v1/ivr-calls?caller=abc", &t.token).await.problem(422, "validation_failed");
}

#[actix_web::test]
async fn a_thousand_calls_in_one_batch() {
    let app = spawn_app_with(|s| s.max_body_bytes = 1 << 20).await;
    let t = app.signup("ivr-thousand").await;
    let calls: Vec<Value> = (0..1000)
        .map(|i| {
            call(
                &format!("98765{:05}", i % 700),
                "8045670001",
                i % 3,
                &format!("2026-11-20T10:{:02}:{:02}Z", i / 60, i % 60),
            )
        })
        .collect();
    let out = app.post("/api/v1/ivr-calls/batch", &t.token, json!({"calls": calls})).await.expect(200);
    assert_eq!(out["created"], 1000);
    assert_eq!(out["leads_created"], 700);
}
