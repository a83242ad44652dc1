//! The opt-out list: add, list, remove, import; an opted-out number gets no message.

use serde_json::json;

use crate::helpers::*;
use crate::leads::upload;
use crate::messages::sandbox_account;

#[actix_web::test]
async fn opted_out_numbers_get_no_message_until_removed() {
    let app = spawn_app().await;
    let t = app.signup("olga").await;
    let (account, _) = sandbox_account(&app, &t.token).await;
    crate::inbox::sandbox_inbound(&app, &t.token, account, "+919876543210").await;
    let send = json!({"account_id": account, "to": "+919876543210", "message": {"type": "text", "body": "offer"}});

    let added = app
        .post("/api/v1/opt-outs", &t.token, json!({"phone": "9876543210", "reason": "asked on a call"}))
        .await
        .expect(201);
    assert_eq!((added["phone"].as_str(), added["source"].as_str()), (Some("+919876543210"), Some("api")));
    let again = app.post("/api/v1/opt-outs", &t.token, json!({"phone": "+919876543210"})).await.expect(200);
    assert_eq!(again["id"], added["id"]);
    app.post("/api/v1/opt-outs", &t.token, json!({"phone": "98"})).await.problem(422, "validation_failed");
    app.post("/api/v1/messages", &t.token, send.clone()).await.problem(409, "recipient_opted_out");

    let other = app.signup("oscar").await;
    app.delete("/api/v1/opt-outs/+919876543210", &other.token).await.problem(404, "not_found");
    app.delete(&format!("/api/v1/opt-outs/{}", added["id"]), &other.token).await.problem(404, "not_found");
    app.delete("/api/v1/opt-outs/+919876543210", &t.token).await.expect(204);
    app.delete("/api/v1/opt-outs/+919876543210", &t.token).await.problem(404, "not_found");
    app.post("/api/v1/messages", &t.token, send).await.expect(202);

    let b = app.post("/api/v1/opt-outs", &t.token, json!({"phone": "+919812345678"})).await.expect(201);
    app.delete(&format!("/api/v1/opt-outs/{}", b["id"]), &t.token).await.expect(204);
    assert!(app.get("/api/v1/opt-outs", &t.token).await.expect(200)["data"].as_array().unwrap().is_empty());
}

#[actix_web::test]
async fn opt_out_csv_import_reports_rows_and_lists_by_source() {
    let app = spawn_app().await;
    let t = app.signup("ines").await;
    app.post("/api/v1/opt-outs", &t.token, json!({"phone": "+919800000001"})).await.expect(201);
    let csv = "phone,reason\n9876543210,do not call\n12,\n+919800000001,\n,no number\n9812345678\n";
    let report = upload(&app, "/api/v1/opt-outs/import", &t.token, "text/csv", csv).await.expect(200);
    assert_eq!(
        (
            report["total_rows"].as_i64(),
            report["added"].as_i64(),
            report["already_listed"].as_i64(),
            report["failed"].as_i64()
        ),
        (Some(5), Some(2), Some(1), Some(2))
    );
    assert_eq!(
        report["errors"],
        json!([{"row": 3, "errors": {"phone": ["invalid_e164"]}}, {"row": 5, "errors": {"phone": ["required"]}}])
    );
    let headerless =
        upload(&app, "/api/v1/opt-outs/import", &t.token, "text/csv", "9811111111,spam\n").await.expect(200);
    assert_eq!(headerless["added"], 1);
    let csv_rows = app.get("/api/v1/opt-outs?source=csv", &t.token).await.expect(200);
    let phones: Vec<&str> = csv_rows["data"].as_array().unwrap().iter().map(|o| o["phone"].as_str().unwrap()).collect();
    assert_eq!(phones, vec!["+919811111111", "+919812345678", "+919876543210"]);
    assert_eq!(csv_rows["data"][2]["reason"], "do not call");
    let page = app.get("/api/v1/opt-outs?limit=2", &t.token).await.expect(200);
    assert!(page["next_cursor"].is_string());
    app.get("/api/v1/opt-outs?source=fax", &t.token).await.problem(422, "validation_failed");
    upload(&app, "/api/v1/opt-outs/import", &t.token, "text/csv", "").await.problem(422, "validation_failed");
    upload(&app, "/api/v1/opt-outs/import", &t.token, "image/png", "x").await.problem(415, "unsupported_media_type");
}
