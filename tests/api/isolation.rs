//! Walks every route of the OpenAPI document with a second tenant's credentials and fails if any
//! answers with, or changes, the first tenant's data.

use serde_json::{Value, json};

use crate::helpers::*;
use crate::setup::full_meta_setup;

/// A body for every operation that takes one; a new operation must be added here.
fn sample_body(operation: &str) -> Option<Value> {
    Some(match operation {
        "create_user" => json!({"email": "iso-new@example.com", "name": "X", "role": "member"}),
        "update_user" => json!({"name": "Hacked"}),
        "create_api_key" => json!({"name": "x"}),
        "create_account" => json!({"name": "x"}),
        "update_account" => json!({"name": "Hacked"}),
        "create_account_setup" => {
            json!({"name": "x", "phone_number": {"phone_number": "+14155550188"}, "business_profile": {"name": "x"}})
        }
        "update_account_setup" | "put_setup_business_account" => {
            json!({"meta_business_account_id": "1", "waba_id": "2"})
        }
        "put_setup_phone_number" => json!({"phone_number": "+14155550178"}),
        "put_setup_access_tokens" => json!({"access_token": "EAAG-token-123456", "app_secret": "app-secret-123456"}),
        "put_setup_business_profile" => json!({"name": "Hacked"}),
        "put_setup_bot" | "put_setup_webhook" => json!({}),
        "create_phone_number" => json!({"phone_number": "+14155550177"}),
        "update_phone_number" => json!({"verified_name": "Hacked"}),
        "create_tenant" => json!({"name": "x"}),
        "set_tenant_quotas" => json!({"max_accounts": 1}),
        "create_template" | "update_template" => crate::templates::order_update(),
        "create_flow" => json!({"name": "x"}),
        "upload_flow_json" => json!({"version": "6.0", "screens": [{"id": "A"}]}),
        "send_message" => json!({"account_id": 1, "to": "+14155550142", "message": {"type": "text", "body": "x"}}),
        "send_account_message" => json!({"to": "+14155550142", "message": {"type": "text", "body": "x"}}),
        "register_phone_number" => json!({"pin": "123456"}),
        "request_phone_code" => json!({"code_method": "SMS"}),
        "verify_phone_code" => json!({"code": "123456"}),
        "create_webhook_endpoint" => json!({"url": "https://example.com/hook", "event_types": ["message.status"]}),
        "update_webhook_endpoint" => json!({"active": false}),
        "create_campaign" => crate::campaigns::campaign_body(1, json!({"test_numbers": ["+14155550142"]})),
        "create_sandbox_inbound" => json!({"from": "+14155550142", "text": "x"}),
        "create_lead" => json!({"phone": "+919800000042"}),
        "update_lead" => json!({"status": "converted", "name": "Hacked"}),
        "create_lead_note" => json!({"text": "hacked"}),
        "import_leads" | "import_opt_outs" => json!("phone\n+919800000042"),
        "create_opt_out" => json!({"phone": "+919800000042"}),
        "generate_template" => json!({"name": "x", "language": "en", "body": "x"}),
        "create_project" => json!({"name": "x", "ivr_numbers": ["+918045670001"]}),
        "update_project" => json!({"name": "Hacked", "ivr_numbers": []}),
        "create_ivr_call" => {
            json!({"caller_id_number": "9876500001", "call_to_number": "8045670001", "duration": 0, "start_stamp": "2026-11-20T10:00:00Z"})
        }
        "create_ivr_call_batch" => {
            json!({"calls": [{"caller_id_number": "9876500002", "call_to_number": "8045670001", "duration": 5, "start_stamp": "2026-11-20T10:00:00Z"}]})
        }
        "embedded_signup" => json!({"code": "c", "waba_id": "1", "phone_number_id": "2"}),
        _ => return None,
    })
}

#[actix_web::test]
async fn no_route_leaks_or_changes_another_tenants_data() {
    let app = spawn_app().await;
    let a = app.signup("alpha-owner").await;
    let member = app
        .post("/api/v1/users", &a.token, json!({"email": "alpha-member@example.com", "name": "Alpha Member", "role": "member", "password": "alphapass"}))
        .await
        .expect(201);
    let key = app.post("/api/v1/api-keys", &a.token, json!({"name": "alpha-key"})).await.expect(201);
    let setup = app
        .post("/api/v1/accounts/setup", &a.token, full_meta_setup("alpha-account", "+14155550123", "4242424242"))
        .await
        .expect(201);
    let account_id = setup["account"]["id"].as_i64().unwrap();
    let phone_id = setup["phone_number"]["id"].as_i64().unwrap();
    let template = app
        .post(&format!("/api/v1/accounts/{account_id}/templates"), &a.token, crate::templates::order_update())
        .await
        .expect(201);
    let db = app.state.db.clone();
    let tenant = wabahub::domain::TenantId(a.id);
    let flow = actix_web::web::block(move || {
        wabahub::store::flows::insert(
            &mut db.get().unwrap(),
            tenant,
            account_id,
            "alpha-flow",
            "[\"OTHER\"]",
            Some("f-1"),
        )
        .unwrap()
    })
    .await
    .unwrap();
    let db = app.state.db.clone();
    let (endpoint, delivery) = actix_web::web::block(move || {
        let c = &mut db.get().unwrap();
        let e = wabahub::store::webhook_endpoints::insert(
            c,
            tenant,
            "https://alpha-hooks.example.com/in",
            "[\"message.status\"]",
            "secret",
            None,
        )
        .unwrap();
        let d = wabahub::relay::ping(c, tenant, e.id).unwrap();
        (e.id, d.id)
    })
    .await
    .unwrap();
    let inbound = json!({"object": "whatsapp_business_account", "entry": [{"id": "2222", "changes": [{"field": "messages", "value": {"metadata": {"phone_number_id": "4242424242"}, "messages": [{"from": "14155550199", "id": "wamid.alpha", "timestamp": chrono::Utc::now().timestamp().to_string(), "type": "text", "text": {"body": "alpha-inbound"}}]}}]}]});
    let path = crate::webhooks::path_of(setup["account"]["webhook_url"].as_str().unwrap());
    crate::webhooks::deliver_signed(&app, path, "app-secret-123456", &inbound).await;
    crate::inbox::drained(&app, &a.token).await;
    // The contact wrote, so a free-form reply may be sent.
    let message = app
        .post(
            &format!("/api/v1/accounts/{account_id}/send_message"),
            &a.token,
            json!({"to": "+14155550199", "message": {"type": "text", "body": "alpha-message"}}),
        )
        .await
        .expect(202);
    let event = app.get("/api/v1/webhook-events", &a.token).await.expect(200)["data"][0]["id"].as_i64().unwrap();
    let campaign = app
        .post(
            "/api/v1/campaigns",
            &a.token,
            crate::campaigns::campaign_body(account_id, json!({"test_numbers": ["+14155550199"]})),
        )
        .await
        .expect(201);
    let lead =
        app.post("/api/v1/leads", &a.token, json!({"name": "alpha-lead", "phone": "+919800000042"})).await.expect(201);
    app.post(&format!("/api/v1/leads/{}/notes", lead["id"]), &a.token, json!({"text": "alpha-note"})).await.expect(201);
    let opt_out = app
        .post("/api/v1/opt-outs", &a.token, json!({"phone": "+919800000043", "reason": "alpha-reason"}))
        .await
        .expect(201);
    let project = app
        .post("/api/v1/projects", &a.token, json!({"name": "alpha-project", "ivr_numbers": ["+918045679999"]}))
        .await
        .expect(201)["id"]
        .as_i64()
        .unwrap();
    let call = app
        .post(
            "/api/v1/ivr-calls",
            &a.token,
            json!({"caller_id_number": "+919876541616", "call_to_number": "+918045679999", "duration": 30, "start_stamp": "2026-11-20T09:00:00Z"}),
        )
        .await
        .expect(201)["id"]
        .as_i64()
        .unwrap();
    let markers = [
        "alpha-lead",
        "alpha-note",
        "alpha-reason",
        "alpha-hooks.example.com",
        "alpha-inbound",
        "alpha-owner",
        "alpha-member",
        "alpha-key",
        "alpha-project",
        "9876541616",
        "8045679999",
        "alpha-account",
        "+14155550123",
        "4242424242",
        key["prefix"].as_str().unwrap(),
    ];

    let b = app.signup("beta").await;
    let spec = app.call("GET", "/openapi.json", None, None).await.expect(200);
    let mut walked = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        if !path.starts_with("/api/v1/") || path.starts_with("/api/v1/auth/") {
            continue;
        }
        let id = if path.starts_with("/api/v1/users/") {
            member["id"].as_i64().unwrap()
        } else if path.starts_with("/api/v1/api-keys/") {
            key["id"].as_i64().unwrap()
        } else if path.starts_with("/api/v1/accounts/") {
            account_id
        } else if path.starts_with("/api/v1/phone-numbers/") {
            phone_id
        } else if path.starts_with("/api/v1/webhook-endpoints/") {
            endpoint
        } else if path.starts_with("/api/v1/messages/") {
            message["id"].as_i64().unwrap()
        } else if path.starts_with("/api/v1/campaigns/") {
            campaign["id"].as_i64().unwrap()
        } else if path.starts_with("/api/v1/leads/") {
            lead["id"].as_i64().unwrap()
        } else if path.starts_with("/api/v1/opt-outs/") {
            opt_out["id"].as_i64().unwrap()
        } else if path.starts_with("/api/v1/webhook-events/") {
            event
        } else if path.starts_with("/api/v1/flows/") {
            flow.id
        } else if path.starts_with("/api/v1/projects/") {
            project
        } else if path.starts_with("/api/v1/ivr-calls/") {
            call
        } else {
            a.id
        };
        let url = path
            .replace("{id}", &id.to_string())
            .replace("{step}", "1")
            .replace("{template_id}", &template["id"].to_string())
            .replace("{flow_id}", &flow.id.to_string())
            .replace("{phone}", "+14155550199")
            .replace("{delivery_id}", &delivery.to_string());
        for (method, op) in item.as_object().unwrap() {
            let op_id = op["operationId"].as_str().unwrap();
            let body = if op["requestBody"].is_object() {
                Some(
                    sample_body(op_id).unwrap_or_else(|| panic!("add a sample body for {op_id} to the isolation test")),
                )
            } else {
                None
            };
            let res = app.call(&method.to_uppercase(), &url, Some(&b.token), body).await;
            walked += 1;
            for m in markers {
                assert!(!res.text.contains(m), "{method} {url} ({op_id}) leaked {m}: {}", res.text);
            }
            assert!(res.status.as_u16() < 500, "{method} {url} answered {}", res.status);
            if path.contains('{') {
                // A contact is not a resource: another tenant sees an empty conversation.
                let expected = if path.starts_with("/api/v1/admin/") {
                    403
                } else if path.contains("{phone}") {
                    200
                } else {
                    404
                };
                assert_eq!(
                    res.status.as_u16(),
                    expected,
                    "{method} {url} ({op_id}) must not reach tenant A's resource: {}",
                    res.text
                );
            }
        }
    }
    assert!(walked >= 25, "only {walked} operations walked");

    // Tenant A's data is untouched.
    let acc = app.get(&format!("/api/v1/accounts/{account_id}"), &a.token).await.expect(200);
    assert_eq!(acc["name"], "alpha-account");
    assert_eq!(acc["setup_step"], 6);
    let phone = app.get(&format!("/api/v1/phone-numbers/{phone_id}"), &a.token).await.expect(200);
    assert_eq!(phone["verified_name"], "Acme");
    let user = app.get(&format!("/api/v1/users/{}", member["id"]), &a.token).await.expect(200);
    assert_eq!(user["name"], "Alpha Member");
    let hook = app.get(&format!("/api/v1/webhook-endpoints/{endpoint}"), &a.token).await.expect(200);
    assert_eq!(hook["active"], true);
    let c = app.get(&format!("/api/v1/campaigns/{}", campaign["id"]), &a.token).await.expect(200);
    assert_eq!(c["status"], "draft");
    let proj = app.get(&format!("/api/v1/projects/{project}"), &a.token).await.expect(200);
    assert_eq!(proj["name"], "alpha-project");
    assert_eq!(proj["ivr_numbers"], json!(["+918045679999"]));
    app.get("/api/v1/me", key["key"].as_str().unwrap()).await.expect(200);
    let lead = app.get(&format!("/api/v1/leads/{}", lead["id"]), &a.token).await.expect(200);
    assert_eq!((lead["name"].as_str(), lead["status"].as_str()), (Some("alpha-lead"), Some("new")));
    let opt_outs = app.get("/api/v1/opt-outs", &a.token).await.expect(200);
    assert_eq!(opt_outs["data"][0]["id"], opt_out["id"]);
    let tenant = app.get("/api/v1/me", &a.token).await.expect(200);
    assert_eq!(tenant["tenant"]["status"], "active");
}
