//! Leads: CRUD with phone dedupe, filters, notes, and the CSV import.

use diesel::RunQueryDsl;
use serde_json::{Value, json};

use crate::helpers::*;

/// Inserts a project for a tenant (the projects API lives elsewhere) and returns its id.
pub async fn project(app: &TestApp, tenant: i64, name: &str, brochure: Option<&str>) -> i64 {
    use wabahub::db::schema::projects::dsl as p;
    let db = app.state.db.clone();
    let (name, brochure) = (name.to_string(), brochure.map(str::to_string));
    actix_web::web::block(move || {
        let at = wabahub::db::now();
        diesel::insert_into(p::projects)
            .values((
                p::tenant_id.eq(tenant),
                p::name.eq(name),
                p::brochure_url.eq(brochure),
                p::created_at.eq(at),
                p::updated_at.eq(at),
            ))
            .returning(p::id)
            .get_result::<i64>(&mut db.get().unwrap())
            .unwrap()
    })
    .await
    .unwrap()
}

use diesel::ExpressionMethods;

/// POSTs a CSV body with a content type.
pub async fn upload(app: &TestApp, path: &str, token: &str, content_type: &str, body: impl Into<String>) -> Res {
    let res = app
        .client
        .post(app.url(path))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(body.into())
        .send()
        .await
        .unwrap();
    TestApp::read(res).await
}

async fn query(app: &TestApp, token: &str, q: &str) -> Res {
    app.get(&format!("/api/v1/leads?{q}"), token).await
}

fn ids(v: &Value) -> Vec<i64> {
    v["data"].as_array().unwrap().iter().map(|l| l["id"].as_i64().unwrap()).collect()
}

#[actix_web::test]
async fn leads_are_unique_per_phone_and_filterable() {
    let app = spawn_app().await;
    let t = app.signup("lena").await;
    let other = app.signup("otto").await;
    let green = project(&app, t.id, "Green Acres", None).await;
    let foreign = project(&app, other.id, "Elsewhere", None).await;

    let asha = app
        .post("/api/v1/leads", &t.token, json!({"name": "Asha Rao", "phone": "098765 43210", "project_id": green}))
        .await
        .expect(201);
    assert_eq!(asha["phone"], "+919876543210");
    assert_eq!((asha["source"].as_str(), asha["status"].as_str()), (Some("api"), Some("new")));
    let dup = app.post("/api/v1/leads", &t.token, json!({"phone": "+91 98765 43210"})).await;
    let location = dup.headers.get("location").unwrap().to_str().unwrap().to_string();
    assert_eq!(location, format!("/api/v1/leads/{}", asha["id"]));
    dup.problem(409, "lead_exists");
    app.post("/api/v1/leads", &other.token, json!({"phone": "9876543210"})).await.expect(201);

    let bad = app.post("/api/v1/leads", &t.token, json!({"phone": "12345"})).await.problem(422, "validation_failed");
    assert_eq!(bad["errors"]["phone"][0], "invalid_e164");
    let bad = app.post("/api/v1/leads", &t.token, json!({"phone": "9812345678", "project_id": foreign})).await;
    assert_eq!(bad.problem(422, "validation_failed")["errors"]["project_id"][0], "not_found");
    let bad = app.post("/api/v1/leads", &t.token, json!({"phone": "9812345678", "status": "hot"})).await;
    assert_eq!(bad.problem(422, "validation_failed")["errors"]["status"][0], "invalid_choice");

    let ravi = app
        .post("/api/v1/leads", &t.token, json!({"name": "Ravi", "phone": "+919812345678", "status": "contacted"}))
        .await
        .expect(201);
    let all = app.get("/api/v1/leads?limit=1", &t.token).await.expect(200);
    assert_eq!(ids(&all), vec![ravi["id"].as_i64().unwrap()]);
    let cursor = all["next_cursor"].as_str().unwrap();
    let rest = app.get(&format!("/api/v1/leads?limit=1&cursor={cursor}"), &t.token).await.expect(200);
    assert_eq!(ids(&rest), vec![asha["id"].as_i64().unwrap()]);
    assert!(rest["next_cursor"].is_null());
    assert_eq!(ids(&query(&app, &t.token, "status=contacted").await.expect(200)), vec![ravi["id"].as_i64().unwrap()]);
    assert_eq!(ids(&query(&app, &t.token, "q=ASHA").await.expect(200)), vec![asha["id"].as_i64().unwrap()]);
    assert_eq!(ids(&query(&app, &t.token, "q=%25").await.expect(200)), Vec::<i64>::new());
    assert_eq!(
        ids(&query(&app, &t.token, &format!("project_id={green}")).await.expect(200)),
        vec![asha["id"].as_i64().unwrap()]
    );
    assert_eq!(ids(&query(&app, &t.token, "phone=9812345678").await.expect(200)), vec![ravi["id"].as_i64().unwrap()]);
    assert_eq!(ids(&query(&app, &t.token, "source=ivr").await.expect(200)), Vec::<i64>::new());
    query(&app, &t.token, "status=hot").await.problem(422, "validation_failed");
    query(&app, &t.token, "phone=12").await.problem(422, "validation_failed");

    let path = format!("/api/v1/leads/{}", asha["id"]);
    let bad = app.patch(&path, &t.token, json!({"project_id": foreign})).await;
    assert_eq!(bad.problem(422, "validation_failed")["errors"]["project_id"][0], "not_found");
    let changed = app
        .patch(
            &path,
            &t.token,
            json!({"status": "interested", "stage": "site visit", "project_id": null, "name": null}),
        )
        .await
        .expect(200);
    assert_eq!((changed["status"].as_str(), changed["stage"].as_str()), (Some("interested"), Some("site visit")));
    assert!(changed["project_id"].is_null() && changed["name"].is_null());
    assert_eq!(app.get(&path, &t.token).await.expect(200)["status"], "interested");
    app.get(&path, &other.token).await.problem(404, "not_found");
    app.delete(&path, &t.token).await.expect(204);
    app.get(&path, &t.token).await.problem(404, "not_found");
    app.post("/api/v1/leads", &t.token, json!({"phone": "9876543210"})).await.expect(201);
}

#[actix_web::test]
async fn notes_record_who_wrote_them() {
    let app = spawn_app().await;
    let t = app.signup("nora").await;
    let lead = app.post("/api/v1/leads", &t.token, json!({"phone": "+919876543210"})).await.expect(201);
    let path = format!("/api/v1/leads/{}/notes", lead["id"]);
    let note = app.post(&path, &t.token, json!({"text": "Called, wants a brochure"})).await.expect(201);
    assert_eq!((note["source"].as_str(), note["text"].as_str()), (Some("user"), Some("Called, wants a brochure")));
    assert!(note["created_at"].is_string());
    let key = app.post("/api/v1/api-keys", &t.token, json!({"name": "crm"})).await.expect(201);
    let by_key = app.post(&path, key["key"].as_str().unwrap(), json!({"text": "synced"})).await.expect(201);
    assert_eq!(by_key["source"], "api");
    app.post(&path, &t.token, json!({"text": ""})).await.problem(422, "validation_failed");
    let list = app.get(&path, &t.token).await.expect(200);
    let texts: Vec<&str> = list["data"].as_array().unwrap().iter().map(|n| n["text"].as_str().unwrap()).collect();
    assert_eq!(texts, vec!["synced", "Called, wants a brochure"]);
    let other = app.signup("nick").await;
    app.get(&path, &other.token).await.problem(404, "not_found");
    app.post(&path, &other.token, json!({"text": "x"})).await.problem(404, "not_found");
}

#[actix_web::test]
async fn csv_import_reports_each_row_and_skips_known_phones() {
    let app = spawn_app().await;
    let t = app.signup("ivan").await;
    let green = project(&app, t.id, "Green Acres", None).await;
    let known = app.post("/api/v1/leads", &t.token, json!({"phone": "+919800000001"})).await.expect(201);
    let csv = format!(
        "name,phone,project,status,stage,notes,colour\r\n\
         Asha,9876543210,green acres,interested,visit,\"likes 2BHK, east facing\",blue\n\
         Bad Phone,12345,,,,,\n\
         Known,+919800000001,,,,,\n\
         Asha Again,+91 98765 43210,,,,,\n\
         Odd,9812345678,Nowhere,hot,,,\n\
         Ravi,9812345679,{green},,,,\n"
    );
    let report = upload(&app, "/api/v1/leads/import", &t.token, "text/csv", csv).await.expect(200);
    assert_eq!(report["total_rows"], 6);
    assert_eq!(
        (report["created"].as_i64(), report["duplicates"].as_i64(), report["failed"].as_i64()),
        (Some(2), Some(2), Some(2))
    );
    assert_eq!(report["unknown_columns"], json!(["colour"]));
    assert_eq!(report["errors"][0], json!({"row": 3, "errors": {"phone": ["invalid_e164"]}}));
    assert_eq!(
        report["errors"][1],
        json!({"row": 6, "errors": {"project": ["not_found"], "status": ["invalid_choice"]}})
    );
    let asha = app.get("/api/v1/leads?phone=9876543210", &t.token).await.expect(200)["data"][0].clone();
    assert_eq!(
        report["duplicate_rows"],
        json!([{"row": 4, "lead_id": known["id"]}, {"row": 5, "lead_id": asha["id"]}])
    );
    assert_eq!((asha["source"].as_str(), asha["status"].as_str()), (Some("csv"), Some("interested")));
    assert_eq!((asha["project_id"].as_i64(), asha["name"].as_str()), (Some(green), Some("Asha")));
    let notes = app.get(&format!("/api/v1/leads/{}/notes", asha["id"]), &t.token).await.expect(200);
    assert_eq!(notes["data"][0]["text"], "likes 2BHK, east facing");
    assert_eq!(notes["data"][0]["source"], "csv");
    let ravi = app.get("/api/v1/leads?phone=9812345679", &t.token).await.expect(200);
    assert_eq!(ravi["data"][0]["project_id"], green);
    assert!(
        app.get("/api/v1/leads?phone=9812345678", &t.token).await.expect(200)["data"].as_array().unwrap().is_empty()
    );

    // A multipart form works the same way; a repeated import only finds duplicates.
    let form = "--b0\r\nContent-Disposition: form-data; name=\"file\"; filename=\"leads.csv\"\r\nContent-Type: text/csv\r\n\r\nphone\r\n9876543210\r\n\r\n--b0--\r\n";
    let again =
        upload(&app, "/api/v1/leads/import", &t.token, "multipart/form-data; boundary=b0", form).await.expect(200);
    assert_eq!((again["created"].as_i64(), again["duplicates"].as_i64()), (Some(0), Some(1)));
}

#[actix_web::test]
async fn csv_import_refuses_bad_files_and_changes_nothing() {
    let app = spawn_app().await;
    let t = app.signup("fay").await;
    let path = "/api/v1/leads/import";
    upload(&app, path, &t.token, "application/json", "{}").await.problem(415, "unsupported_media_type");
    let e = upload(&app, path, &t.token, "text/csv", "\n\n").await.problem(422, "validation_failed");
    assert_eq!(e["errors"]["file"][0], "empty");
    let e =
        upload(&app, path, &t.token, "text/csv", "name,mobile\nA,9876543210\n").await.problem(422, "validation_failed");
    assert_eq!(e["errors"]["header"][0], "missing_phone_column");
    let e =
        upload(&app, path, &t.token, "text/csv", "phone,Phone\n9876543210,1\n").await.problem(422, "validation_failed");
    assert_eq!(e["errors"]["header"][0], "duplicate_column");
    let e = upload(&app, path, &t.token, "text/csv", "phone,name\n9876543210,\"open\n")
        .await
        .problem(422, "validation_failed");
    assert_eq!(e["errors"]["file"][0], "unclosed_quote");
    let many = format!("phone\n{}", "9876543210\n".repeat(10_001));
    upload(&app, path, &t.token, "text/csv", many).await.problem(413, "too_many_rows");
    let huge = format!("phone,notes\n9876543210,{}\n", "x".repeat(5 * 1024 * 1024));
    upload(&app, path, &t.token, "text/csv", huge).await.problem(413, "payload_too_large");
    let form = "--b0\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nx\r\n--b0--\r\n";
    upload(&app, path, &t.token, "multipart/form-data; boundary=b0", form).await.problem(422, "validation_failed");
    assert!(app.get("/api/v1/leads", &t.token).await.expect(200)["data"].as_array().unwrap().is_empty());
}

#[actix_web::test]
async fn csv_import_of_ten_thousand_rows() {
    let app = spawn_app().await;
    let t = app.signup("max").await;
    let mut csv = String::from("name,phone,status,notes\n");
    for i in 0..10_000 {
        csv.push_str(&format!("Lead {i},+9198{i:08},new,imported row {i}\n"));
    }
    let started = std::time::Instant::now();
    let report = upload(&app, "/api/v1/leads/import", &t.token, "text/csv", csv).await.expect(200);
    let elapsed = started.elapsed();
    let backend = if pg_admin_url().is_some() { "PostgreSQL" } else { "SQLite" };
    println!("csv import of 10,000 rows on {backend}: {:.2} s", elapsed.as_secs_f64());
    assert_eq!((report["created"].as_i64(), report["failed"].as_i64()), (Some(10_000), Some(0)));
    let page = app.get("/api/v1/leads?limit=500", &t.token).await.expect(200);
    assert_eq!(page["data"].as_array().unwrap().len(), 500);
}
