//! Phone numbers: validation, defaults, uniqueness across tenants.

use serde_json::json;

use crate::helpers::*;

#[actix_web::test]
async fn add_list_update_default_and_delete() {
    let app = spawn_app().await;
    let t = app.signup("ann").await;
    let a = app.post("/api/v1/accounts", &t.token, json!({"name": "Main", "provider": "tata"})).await.expect(201);
    let base = format!("/api/v1/accounts/{}/phone-numbers", a["id"]);
    let p1 = app.post(&base, &t.token, json!({"phone_number": "+91 98765 43210"})).await.expect(201);
    assert_eq!(p1["is_default"], true);
    assert_eq!(p1["throughput_mps"], 0.8);
    assert_eq!(p1["quality_rating"], "UNKNOWN");
    let p2 = app
        .post(&base, &t.token, json!({"phone_number": "+919876543211", "provider_phone_number_id": "555", "quality_rating": "GREEN", "messaging_limit_tier": "TIER_1K", "status": "CONNECTED"}))
        .await
        .expect(201);
    assert_eq!(p2["is_default"], false);
    app.post(&base, &t.token, json!({"phone_number": "+919876543210"})).await.problem(409, "phone_number_exists");
    for (body, field, code) in [
        (json!({"phone_number": "+91 5876543210"}), "phone_number", "invalid_india_mobile"),
        (json!({"phone_number": "98765"}), "phone_number", "invalid_e164"),
        (json!({"phone_number": "+14155550100", "status": "LOST"}), "status", "invalid_choice"),
        (json!({"phone_number": "+14155550100", "throughput_mps": 0}), "throughput_mps", "range"),
        (json!({}), "phone_number", "required"),
    ] {
        let e = app.post(&base, &t.token, body).await.problem(422, "validation_failed");
        assert_eq!(e["errors"][field], json!([code]));
    }

    let id2 = p2["id"].as_i64().unwrap();
    let d = app.post(&format!("/api/v1/phone-numbers/{id2}/default"), &t.token, json!({})).await.expect(200);
    assert_eq!(d["is_default"], true);
    let p1_now = app.get(&format!("/api/v1/phone-numbers/{}", p1["id"]), &t.token).await.expect(200);
    assert_eq!(p1_now["is_default"], false);
    let up = app
        .patch(
            &format!("/api/v1/phone-numbers/{id2}"),
            &t.token,
            json!({"quality_rating": "RED", "throughput_mps": 20}),
        )
        .await
        .expect(200);
    assert_eq!(up["quality_rating"], "RED");
    assert_eq!(up["throughput_mps"], 20.0);
    let all = app.get(&format!("/api/v1/phone-numbers?account_id={}", a["id"]), &t.token).await.expect(200);
    assert_eq!(all["data"].as_array().unwrap().len(), 2);
    // Deleting the default hands the role to the remaining number.
    assert_eq!(app.delete(&format!("/api/v1/phone-numbers/{id2}"), &t.token).await.status, 204);
    let p1_now = app.get(&format!("/api/v1/phone-numbers/{}", p1["id"]), &t.token).await.expect(200);
    assert_eq!(p1_now["is_default"], true);
}

#[actix_web::test]
async fn provider_phone_number_id_is_unique_across_tenants() {
    let app = spawn_app().await;
    let a = app.signup("ann").await;
    let b = app.signup("bob").await;
    let acc_a = app.post("/api/v1/accounts", &a.token, json!({"name": "A"})).await.expect(201);
    let acc_b = app.post("/api/v1/accounts", &b.token, json!({"name": "B"})).await.expect(201);
    app.post(
        &format!("/api/v1/accounts/{}/phone-numbers", acc_a["id"]),
        &a.token,
        json!({"phone_number": "+14155550100", "provider_phone_number_id": "999"}),
    )
    .await
    .expect(201);
    app.post(
        &format!("/api/v1/accounts/{}/phone-numbers", acc_b["id"]),
        &b.token,
        json!({"phone_number": "+14155550199", "provider_phone_number_id": "999"}),
    )
    .await
    .problem(409, "phone_number_id_taken");
    app.post(
        &format!("/api/v1/accounts/{}/phone-numbers", acc_a["id"]),
        &b.token,
        json!({"phone_number": "+14155550199"}),
    )
    .await
    .problem(404, "not_found");
}
