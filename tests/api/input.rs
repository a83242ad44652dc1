//! Input no column can hold: U+0000 anywhere in a JSON body, a query, a path segment, an uploaded
//! CSV or a webhook body is refused with a 4xx problem (or a per-row error) and changes nothing;
//! and every CSV the product writes neutralises cells a spreadsheet would run as a formula.

use serde_json::{Value, json};
use wabahub::tabular;

use crate::campaigns::{approved, preview_csv, promo_template, wait_for};
use crate::helpers::*;
use crate::leads::upload;
use crate::messages::sandbox_account;
use crate::webhooks::{drained, envelope, meta_app, post_signed};

/// Asserts a 422 naming `field` with `nul_character`.
#[track_caller]
fn refused(res: Res, field: &str) {
    let body = res.problem(422, "validation_failed");
    assert_eq!(body["errors"][field], json!(["nul_character"]), "{body}");
}

/// What the tenant's leads, notes, projects and opt-outs look like through the API.
async fn snapshot(app: &TestApp, token: &str, lead: i64) -> Vec<Value> {
    let mut out = Vec::new();
    for path in [
        "/api/v1/leads?limit=100".to_string(),
        format!("/api/v1/leads/{lead}"),
        format!("/api/v1/leads/{lead}/notes"),
        "/api/v1/projects".into(),
        "/api/v1/opt-outs".into(),
        "/api/v1/me".into(),
    ] {
        out.push(app.get(&path, token).await.expect(200));
    }
    out
}

/// Every operation of the served spec: (method, path template, query parameter names).
async fn operations(app: &TestApp) -> Vec<(String, String, Vec<String>)> {
    let spec: Value = app.client.get(app.url("/openapi.json")).send().await.unwrap().json().await.unwrap();
    let mut ops = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let query = op["parameters"]
                .as_array()
                .map(|ps| ps.iter().filter(|p| p["in"] == "query").map(|p| p["name"].as_str().unwrap().to_string()))
                .into_iter()
                .flatten()
                .collect();
            ops.push((method.to_uppercase(), path.clone(), query));
        }
    }
    ops
}

/// A path template with every `{param}` replaced by `value`.
fn fill(template: &str, value: &str) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let close = rest[open..].find('}').unwrap() + open;
        out.push_str(&rest[..open]);
        out.push_str(value);
        rest = &rest[close + 1..];
    }
    out + rest
}

#[actix_web::test]
async fn nul_in_any_input_is_refused_and_changes_nothing() {
    let app = spawn_app().await;
    let t = app.signup("ann").await;
    let project = app.post("/api/v1/projects", &t.token, json!({"name": "Palm Grove"})).await.expect(201);
    let project = project["id"].as_i64().unwrap();
    let lead = app.post("/api/v1/leads", &t.token, json!({"name": "Asha", "phone": "+919876500001"})).await.expect(201);
    let lead = lead["id"].as_i64().unwrap();
    app.post(&format!("/api/v1/leads/{lead}/notes"), &t.token, json!({"text": "called"})).await.expect(201);
    let before = snapshot(&app, &t.token, lead).await;

    // JSON bodies: the field's path, at any depth, and an object key.
    let signup =
        json!({"tenant_name": "Nul\u{0} Ltd", "name": "Nul", "email": "nul@example.com", "password": "password123"});
    refused(app.call("POST", "/api/v1/auth/signup", None, Some(signup)).await, "tenant_name");
    let body = json!({"name": "A\u{0}", "phone": "+919876500002"});
    refused(app.post("/api/v1/leads", &t.token, body).await, "name");
    refused(app.post("/api/v1/leads", &t.token, json!({"phone": "+91987650\u{0}0003"})).await, "phone");
    refused(app.post("/api/v1/leads", &t.token, json!({"na\u{0}me": "A", "phone": "+919876500004"})).await, "body");
    refused(app.patch(&format!("/api/v1/leads/{lead}"), &t.token, json!({"stage": "visit\u{0}"})).await, "stage");
    refused(app.post(&format!("/api/v1/leads/{lead}/notes"), &t.token, json!({"text": "\u{0}"})).await, "text");
    let body = json!({"name": "Hill View", "ivr_numbers": ["+918000000001", "+9180000\u{0}00002"]});
    refused(app.post("/api/v1/projects", &t.token, body).await, "ivr_numbers[1]");
    refused(app.patch(&format!("/api/v1/projects/{project}"), &t.token, json!({"name": "P\u{0}"})).await, "name");
    let body = json!({"phone": "+919876500005", "reason": "asked\u{0}"});
    refused(app.post("/api/v1/opt-outs", &t.token, body).await, "reason");

    // Every query parameter of every operation, and every path segment, of the served spec.
    let ops = operations(&app).await;
    assert!(ops.iter().any(|(m, p, q)| m == "GET" && p == "/api/v1/leads" && q.contains(&"q".to_string())));
    for (method, path, query) in &ops {
        let target = fill(path, &lead.to_string());
        for name in query {
            let res = app.call(method, &format!("{target}?{name}=%00"), Some(&t.token), None).await;
            assert_eq!(res.status, 422, "{method} {target}?{name}=%00: {}", res.text);
            refused(res, name);
        }
        if path.contains('{') {
            let res = app.call(method, &fill(path, "%00"), Some(&t.token), None).await;
            res.problem(404, "not_found");
        }
    }
    app.get("/webhooks/meta/%00", &t.token).await.problem(404, "not_found");
    app.get("/api/v1/leads/1%00", &t.token).await.problem(404, "not_found");

    // CSV uploads: the row and column are reported, nothing is imported.
    let csv = "name,phone,notes\nA\u{0},+919876500006,\nB,+919876500007,x\u{0}y\n";
    let report = upload(&app, "/api/v1/leads/import", &t.token, "text/csv", csv).await.expect(200);
    assert_eq!((report["created"].as_i64(), report["failed"].as_i64()), (Some(0), Some(2)), "{report}");
    assert_eq!(report["errors"][0], json!({"row": 2, "errors": {"name": ["nul_character"]}}), "{report}");
    assert_eq!(report["errors"][1], json!({"row": 3, "errors": {"notes": ["nul_character"]}}), "{report}");
    let form = format!(
        "--b0\r\nContent-Disposition: form-data; name=\"file\"; filename=\"o.csv\"\r\n\r\n{}\r\n--b0--\r\n",
        "phone,reason\n+919876500008,no\u{0}\n"
    );
    let report =
        upload(&app, "/api/v1/opt-outs/import", &t.token, "multipart/form-data; boundary=b0", form).await.expect(200);
    assert_eq!(report["added"], 0, "{report}");
    assert_eq!(report["errors"], json!([{"row": 2, "errors": {"reason": ["nul_character"]}}]), "{report}");

    assert_eq!(snapshot(&app, &t.token, lead).await, before);
    app.call("POST", "/api/v1/auth/login", None, Some(json!({"email": "nul@example.com", "password": "password123"})))
        .await
        .problem(401, "invalid_credentials");
}

#[actix_web::test]
async fn a_webhook_body_spelling_nul_is_stored_and_applied_without_it() {
    let (app, _fake, t, _account, path) = meta_app().await;
    let contacts = json!([{"profile": {"name": "Ra\u{0}vi"}, "wa_id": "919812345678"}]);
    let messages = json!([{"from": "919812345678", "id": "wamid.NUL1", "timestamp": "1700000000",
        "type": "text", "text": {"body": "hi\u{0}there"}}]);
    let change = json!({"field": "messages", "value": {"messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "14155550100", "phone_number_id": "106540352242922"},
        "contacts": contacts, "messages": messages}});
    let body = envelope(vec![change]).to_string();
    assert!(body.contains("\\u0000"));
    let res = post_signed(&app.client, &app.url(&path), crate::webhooks::APP_SECRET, &body).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    drained(&app, &t.token).await;
    let events = app.get("/api/v1/webhook-events", &t.token).await.expect(200);
    assert_eq!(events["data"][0]["process_error"], Value::Null, "{events}");
    let page = app.get("/api/v1/conversations/%2B919812345678/messages", &t.token).await.expect(200);
    assert!(page.to_string().contains("hi\u{fffd}there"), "{page}");

    // A field naming the kind with NUL is an `unknown` kind; a NUL number id is nobody's.
    let odd = envelope(vec![json!({"field": "mess\u{0}ages", "value": {}})]).to_string();
    let res = post_signed(&app.client, &app.url(&path), crate::webhooks::APP_SECRET, &odd).await;
    assert_eq!(res.status(), 200);
    let platform = envelope(vec![json!({"field": "messages", "value": {"metadata": {"phone_number_id": "1\u{0}"}}})]);
    let res = post_signed(&app.client, &app.url("/webhooks/meta"), "platform-app-secret", &platform.to_string()).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
}

/// The cells of a CSV text, row by row.
fn cells(csv: &str) -> Vec<Vec<String>> {
    tabular::parse(csv).unwrap().into_iter().map(|r| r.fields).collect()
}

#[actix_web::test]
async fn exported_csv_cells_never_start_a_formula() {
    let app = spawn_app().await;
    let t = app.signup("ann").await;
    let (account, _) = sandbox_account(&app, &t.token).await;
    approved(&app, &t.token, account, promo_template()).await;
    let project = app.post("/api/v1/projects", &t.token, json!({"name": "@SUM(1+1)"})).await.expect(201);
    for (name, phone) in [("=cmd|' /C calc'!A0", "+919876500001"), ("\t=1+1", "+919876500002")] {
        let body = json!({"name": name, "phone": phone, "project_id": project["id"]});
        app.post("/api/v1/leads", &t.token, body).await.expect(201);
    }
    let today = chrono::Utc::now().date_naive().to_string();
    let campaign = json!({"name": "Formula", "account_id": account,
        "template": {"name": "ivr_follow_up", "language": "en"}, "rate_mps": 50,
        "variables": [{"source": "lead_name"}, {"source": "project_name"}, {"source": "text", "value": "-5"}],
        "audience": {"source": "leads", "from_date": today, "to_date": today}});
    let id = app.post("/api/v1/campaigns", &t.token, campaign).await.expect(201)["id"].as_i64().unwrap();

    let rows = cells(&preview_csv(&app, &t.token, id).await.text().await.unwrap());
    assert_eq!(rows[0], ["phone", "lead_id", "project", "call_status", "outcome", "variables"]);
    let mut by_phone: Vec<(&str, &str, &str)> =
        rows[1..].iter().map(|r| (r[0].as_str(), r[2].as_str(), r[5].as_str())).collect();
    by_phone.sort();
    assert_eq!(
        by_phone,
        [
            ("'+91******0001", "'@SUM(1+1)", "'=cmd|' /C calc'!A0 | @SUM(1+1) | -5"),
            ("'+91******0002", "'@SUM(1+1)", "'=1+1 | @SUM(1+1) | -5"),
        ]
    );

    app.post(&format!("/api/v1/campaigns/{id}/start"), &t.token, json!({})).await.expect(200);
    wait_for(&app, &t.token, id, |c| c["status"] == "completed").await;
    let res = app.get(&format!("/api/v1/campaigns/{id}/recipients?format=csv&full_numbers=true"), &t.token).await;
    let mut phones: Vec<String> = cells(&res.text)[1..].iter().map(|r| r[0].clone()).collect();
    phones.sort();
    assert_eq!(phones, ["'+919876500001", "'+919876500002"], "{}", res.text);
}

/// Every string and number of a body with its path as errors name it (`a.b[0].c`).
fn leaf_paths(v: &Value, path: &str, out: &mut Vec<String>) {
    let join = |k: &str| if path.is_empty() { k.to_string() } else { format!("{path}.{k}") };
    match v {
        Value::String(_) | Value::Number(_) => out.push(path.to_string()),
        Value::Array(items) => items.iter().enumerate().for_each(|(i, x)| leaf_paths(x, &format!("{path}[{i}]"), out)),
        Value::Object(map) => map.iter().for_each(|(k, x)| leaf_paths(x, &join(k), out)),
        _ => {}
    }
}

/// The value at `path` (as [`leaf_paths`] names it), to change.
fn leaf<'a>(v: &'a mut Value, path: &str) -> &'a mut Value {
    path.split('.').flat_map(|part| part.split('[')).fold(v, |v, step| match step.strip_suffix(']') {
        Some(i) => &mut v[i.parse::<usize>().unwrap()],
        None => &mut v[step],
    })
}

/// What a fuzzed leaf becomes: a string with U+0000 (first) or another control or odd character
/// appended; a number at the edges of its range.
fn variants(v: &Value) -> Vec<Value> {
    match v {
        Value::String(s) => ['\0', '\u{1}', '\u{8}', '\u{1b}', '\u{7f}', '\u{85}', '\u{2028}', '\u{feff}', '\u{ffff}']
            .into_iter()
            .map(|ch| json!(format!("{s}{ch}")))
            .collect(),
        _ => vec![json!(i64::MAX), json!(i64::MIN), json!(-1), json!(0), json!(0.5), json!(1e300)],
    }
}

#[actix_web::test]
async fn odd_values_in_any_json_field_never_give_a_server_error() {
    let app = spawn_app_with(|s| s.allow_private_urls = true).await;
    let t = app.signup("ann").await;
    let (account, _) = sandbox_account(&app, &t.token).await;
    app.post(
        &format!("/api/v1/accounts/{account}/sandbox/inbound"),
        &t.token,
        json!({"from": "+919876543210", "text": "hi"}),
    )
    .await
    .expect(201);
    let project = app.post("/api/v1/projects", &t.token, json!({"name": "Palm Grove"})).await.expect(201)["id"].clone();
    let lead = app.post("/api/v1/leads", &t.token, json!({"phone": "+919876500001"})).await.expect(201)["id"].clone();
    let flow_json = json!({"version": "6.0", "screens": [{"id": "BOOK", "terminal": true}]});
    let bot = json!({"enable_auto_reply": true, "greeting_message": "Welcome!", "fallback_message": "Soon", "opt_out_keywords": ["stop it"]});
    // Valid bodies; `{n}` is a number unique to each request, so creations reach the database.
    let bodies: Vec<(&str, String, Value)> = vec![
        (
            "POST",
            "/api/v1/auth/signup".into(),
            json!({"tenant_name": "F{n} Ltd", "name": "F", "email": "f{n}@example.com", "password": "password123"}),
        ),
        ("POST", "/api/v1/auth/login".into(), json!({"email": "ann@example.com", "password": "password123"})),
        ("POST", "/api/v1/leads".into(), json!({"name": "Asha", "phone": "+9198765{n}", "stage": "site visit"})),
        ("PATCH", format!("/api/v1/leads/{lead}"), json!({"name": "Asha", "stage": "visit"})),
        ("POST", format!("/api/v1/leads/{lead}/notes"), json!({"text": "called twice"})),
        (
            "POST",
            "/api/v1/projects".into(),
            json!({"name": "P{n}", "deep_link_base_url": "https://example.com/app", "ivr_numbers": ["+9180000{n}"]}),
        ),
        ("PATCH", format!("/api/v1/projects/{project}"), json!({"name": "Palm {n}"})),
        ("POST", "/api/v1/opt-outs".into(), json!({"phone": "+9197765{n}", "reason": "asked"})),
        (
            "POST",
            "/api/v1/users".into(),
            json!({"email": "u{n}@example.com", "name": "U", "role": "member", "password": "password123"}),
        ),
        ("POST", "/api/v1/api-keys".into(), json!({"name": "key {n}"})),
        (
            "POST",
            "/api/v1/webhook-endpoints".into(),
            json!({"url": "http://127.0.0.1:9/in", "event_types": ["message.status"]}),
        ),
        (
            "PATCH",
            format!("/api/v1/accounts/{account}"),
            json!({"name": "Sandbox", "bot_settings": bot, "limits": {"messages_per_second": 5.0, "messages_per_minute": 60, "messages_per_day": 1000, "messages_per_month": 9000}}),
        ),
        ("POST", format!("/api/v1/accounts/{account}/sandbox/inbound"), json!({"from": "+919876543210", "text": "hi"})),
        (
            "POST",
            "/api/v1/messages".into(),
            json!({"account_id": account, "to": "+919876543210", "message": {"type": "text", "body": "hello"}}),
        ),
        (
            "POST",
            "/api/v1/ivr-calls".into(),
            json!({"caller_id_number": "98765{n}", "call_to_number": "8000000001", "duration": 10, "start_stamp": "2026-11-30T10:00:00Z"}),
        ),
        ("POST", format!("/api/v1/accounts/{account}/templates"), promo_template()),
        ("POST", format!("/api/v1/accounts/{account}/flows"), json!({"name": "Visit {n}", "flow_json": flow_json})),
        (
            "POST",
            "/api/v1/templates/generate".into(),
            json!({"name": "green_acres_update", "language": "en", "body": "Hi {{1}}, welcome.", "body_examples": ["Asha"], "footer": "Reply STOP to opt out"}),
        ),
        (
            "POST",
            "/api/v1/campaigns".into(),
            json!({"name": "C", "account_id": account, "template": {"name": "ivr_follow_up", "language": "en"}, "rate_mps": 20,
            "variables": [{"source": "lead_name", "default": "there"}, {"source": "text", "value": "Palm"}, {"source": "call_status"}],
            "audience": {"source": "ivr_calls", "from_date": "2026-11-01", "to_date": "2026-11-30", "limit": 10, "test_numbers": ["+919876543210"]}}),
        ),
    ];
    let mut n = 10_000;
    let mut failures = Vec::new();
    let fill = |body: &Value, n: usize| -> Value {
        serde_json::from_str(&body.to_string().replace("{n}", &n.to_string())).unwrap()
    };
    for (method, path, body) in &bodies {
        n += 1;
        let res = app.call(method, path, Some(&t.token), Some(fill(body, n))).await;
        assert!(res.status.is_success(), "{method} {path}: {} {}", res.status, res.text);
        let mut paths = Vec::new();
        leaf_paths(body, "", &mut paths);
        for field in &paths {
            for value in variants(leaf(&mut body.clone(), field)) {
                n += 1;
                let mut sent = fill(body, n);
                *leaf(&mut sent, field) = value.clone();
                let res = app.call(method, path, Some(&t.token), Some(sent)).await;
                let nul = value.as_str().is_some_and(|s| s.contains('\0'));
                let refused = res.status == 422 && res.body["errors"][field] == json!(["nul_character"]);
                if res.status.is_server_error() || (nul && !refused) {
                    failures.push(format!("{method} {path} {field} = {value}: {} {}", res.status, res.text));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[actix_web::test]
async fn odd_query_and_path_values_never_give_a_server_error() {
    let app = spawn_app().await;
    let t = app.signup("ann").await;
    let odd = [
        "%01",
        "%7F",
        "%E2%80%A8",
        "%FF",
        "-1",
        "0",
        "9223372036854775807",
        "-9223372036854775808",
        "99999999999999999999",
        "1e308",
        "NaN",
        "9999-12-31",
        "0000-01-01",
        "262143-12-31T00:00:00Z",
        "-",
    ];
    let mut failures = Vec::new();
    for (method, path, query) in operations(&app).await {
        let mut targets: Vec<String> = odd.iter().filter(|_| path.contains('{')).map(|v| fill(&path, v)).collect();
        let own = fill(&path, "1");
        for name in &query {
            targets.extend(odd.iter().map(|v| format!("{own}?{name}={v}")));
        }
        for target in targets {
            let res = app.call(&method, &target, Some(&t.token), None).await;
            if res.status.is_server_error() {
                failures.push(format!("{method} {target}: {} {}", res.status, res.text));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
