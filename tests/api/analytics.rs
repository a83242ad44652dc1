//! Analytics from the rollups: totals, rates, the daily series, failure codes, templates.

use std::time::Duration;

use serde_json::json;

use crate::helpers::*;
use crate::inbox::sandbox_inbound;
use crate::messages::{sandbox_account, settle};
use crate::templates::approved_template;

#[actix_web::test]
async fn dashboard_and_account_analytics_count_what_happened() {
    let app = spawn_app().await;
    let t = app.signup("ann").await;
    let (a, _) = sandbox_account(&app, &t.token).await;
    approved_template(&app, &t.token, a).await;
    // Free-form texts need the contact to have written; the template needs nothing.
    for contact in ["+919876543210", "+14155550000", "+14155551026"] {
        sandbox_inbound(&app, &t.token, a, contact).await;
    }
    let url = format!("/api/v1/accounts/{a}/send_message");
    let template = json!({"type": "template", "name": "order_update", "language": "en_US", "components": {"body": [{"text": "Ann"}, {"text": "A1"}]}});
    let sends = [
        json!({"to": "+919876543210", "message": {"type": "text", "body": "hi"}}),
        json!({"to": "+919876543211", "message": template}),
        json!({"to": "+14155550000", "message": {"type": "text", "body": "refused"}}),
        json!({"to": "+14155551026", "message": {"type": "text", "body": "fails later"}}),
    ];
    let mut ids = Vec::new();
    for body in sends {
        ids.push(app.post(&url, &t.token, body).await.expect(202)["id"].as_i64().unwrap());
    }
    for id in &ids {
        settle(&app, &t.token, *id).await;
    }
    // Let the sandbox's delivered/read/failed updates arrive (0.5 s and 1.5 s after sending).
    let mut d = json!(null);
    for _ in 0..60 {
        d = app.get("/api/v1/analytics/dashboard", &t.token).await.expect(200);
        if d["totals"]["read"] == 2 && d["totals"]["failed"] == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(d["totals"], json!({"sent": 3, "delivered": 2, "read": 2, "failed": 2, "inbound": 3}), "{d}");
    assert_eq!(d["rates"]["delivery_rate"], 0.6667);
    assert_eq!(d["rates"]["read_rate"], 1.0);
    assert_eq!(d["rates"]["failure_rate"], 0.4);
    assert_eq!(d["daily"].as_array().unwrap().len(), 30);
    assert_eq!(d["daily"][29]["sent"], 3);
    assert_eq!(d["daily"][0]["sent"], 0);
    assert_eq!(d["top_failure_codes"], json!([{"code": "131026", "count": 2}]));
    assert!(d.get("templates").is_none());

    let acc = app.get(&format!("/api/v1/accounts/{a}/analytics?days=7"), &t.token).await.expect(200);
    assert_eq!(acc["daily"].as_array().unwrap().len(), 7);
    assert_eq!(
        acc["templates"],
        json!([{"template_name": "order_update", "sent": 1, "delivered": 1, "read": 1, "failed": 0}])
    );
    app.get("/api/v1/analytics/dashboard?days=0", &t.token).await.problem(422, "validation_failed");
    app.get("/api/v1/analytics/dashboard?days=400", &t.token).await.problem(422, "validation_failed");
    let other = app.signup("bob").await;
    let empty = app.get("/api/v1/analytics/dashboard", &other.token).await.expect(200);
    assert_eq!(empty["totals"]["sent"], 0);
    app.get(&format!("/api/v1/accounts/{a}/analytics"), &other.token).await.problem(404, "not_found");
}
