//! Campaign benchmark (run it through `bench/campaigns.sh`):
//!  1. audience resolution and preview over N IVR calls (default 100,000), timed in-process on the
//!     database: resolve (filter, dedupe, exclusions), render the first 10 messages, write the CSV;
//!  2. campaign throughput: a real `wabahub serve` with `OUTBOX_RATE_LIMITS=false` sends a campaign
//!     of M recipients (default 20,000) to a fake Meta Cloud API on 127.0.0.1; prints msg/s.

use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{App, HttpResponse, HttpServer, web};
use serde_json::{Value, json};
use wabahub::campaigns::definition::{Audience, AudienceSource, Definition, default_variables};
use wabahub::campaigns::{audience, csv, render};
use wabahub::db::{Db, DbConn, write_tx};
use wabahub::domain::TenantId;
use wabahub::store::ivr_calls::NewCall;

type Arrivals = Arc<Mutex<Vec<Instant>>>;

struct Args {
    wabahub: String,
    calls: usize,
    recipients: usize,
    database_url: Option<String>,
}

fn args() -> Args {
    let mut a =
        Args { wabahub: "target/release/wabahub".into(), calls: 100_000, recipients: 20_000, database_url: None };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().expect("every flag takes a value");
        match flag.as_str() {
            "--wabahub" => a.wabahub = value,
            "--calls" => a.calls = value.parse().expect("--calls N"),
            "--recipients" => a.recipients = value.parse().expect("--recipients N"),
            "--database-url" => a.database_url = Some(value),
            other => panic!("unknown flag {other}"),
        }
    }
    a
}

/// `n` calls to one project's IVR number over the last 30 days: 2% invalid caller ids, and one
/// caller in ten calls twice.
fn calls(n: usize) -> Vec<NewCall> {
    let now = chrono::Utc::now().naive_utc();
    (0..n)
        .map(|i| {
            let caller = if i % 50 == 49 {
                format!("12{i}")
            } else {
                format!("+9196{:08}", i - i % 10 * (i % 10 == 9) as usize)
            };
            NewCall {
                caller_valid: !caller.starts_with("12"),
                caller_id_number: caller,
                call_to_number: "+918000000001".into(),
                duration: (i % 3) as i64 * 20,
                start_stamp: now - chrono::Duration::seconds((i * 25) as i64),
            }
        })
        .collect()
}

/// Stores a project and the calls for a tenant, in batches.
fn seed(conn: &mut DbConn, tenant: i64, n: usize) {
    use diesel::prelude::*;
    use wabahub::db::schema::{project_ivr_numbers, projects};
    let now = wabahub::db::now();
    let project: i64 = diesel::insert_into(projects::table)
        .values((
            projects::tenant_id.eq(tenant),
            projects::name.eq("Palm Grove"),
            projects::created_at.eq(now),
            projects::updated_at.eq(now),
        ))
        .returning(projects::id)
        .get_result(conn)
        .unwrap();
    diesel::insert_into(project_ivr_numbers::table)
        .values((
            project_ivr_numbers::tenant_id.eq(tenant),
            project_ivr_numbers::project_id.eq(project),
            project_ivr_numbers::number.eq("+918000000001"),
        ))
        .execute(conn)
        .unwrap();
    for chunk in calls(n).chunks(5_000) {
        write_tx(conn, |c| wabahub::store::ivr_calls::ingest(c, TenantId(tenant), chunk)).unwrap();
    }
}

fn audience_days(days: i64) -> Audience {
    let today = chrono::Utc::now().date_naive();
    Audience {
        source: AudienceSource::IvrCalls,
        projects: vec![],
        from_date: today - chrono::Duration::days(days),
        to_date: today,
        call_status: None,
        lead_statuses: vec![],
        limit: None,
        test_numbers: vec![],
    }
}

fn resolution_bench(a: &Args, dir: &std::path::Path) {
    let url = a.database_url.clone().unwrap_or_else(|| format!("sqlite://{}/resolve.db", dir.display()));
    let db = Db::open(&url, 2).unwrap();
    let conn = &mut db.get().unwrap();
    let tenant = write_tx(conn, |c| wabahub::store::tenants::create(c, "Bench")).unwrap().id;
    let t = Instant::now();
    seed(conn, tenant, a.calls);
    println!("seeded {} IVR calls (with leads) in {:.1}s", a.calls, t.elapsed().as_secs_f64());
    let d = Definition { header_media: None, variables: default_variables(), cta: None, audience: audience_days(31) };
    let signer = wabahub::domain::cta::CtaSigner::new("a-bench-secret-that-is-long-enough-0000", 3600);
    for round in 0..3 {
        let t = Instant::now();
        let res = audience::resolve(conn, TenantId(tenant), &d.audience, 0, "bench", false).unwrap();
        let resolved = t.elapsed();
        let ctx = render::Context {
            definition: &d,
            template_name: "ivr_follow_up",
            language: "en",
            cta: &signer,
            base_url: "https://hub.example.com",
            now: 1,
        };
        let samples: Vec<_> = res.eligible.iter().take(10).map(|c| render::message(&ctx, c)).collect();
        let groups = audience::groups(&res.eligible);
        let json_done = t.elapsed();
        let body = csv::preview(&res, |c| d.variables.iter().map(|v| render::variable(&ctx, v, c)).collect());
        println!(
            "round {round}: resolved {} calls → {} eligible {:?} in {:.0} ms; preview JSON ({} samples, {} groups) {:.0} ms; with CSV ({} KB) {:.0} ms",
            a.calls,
            res.eligible.len(),
            res.exclusions,
            resolved.as_secs_f64() * 1e3,
            samples.len(),
            groups.len(),
            json_done.as_secs_f64() * 1e3,
            body.len() / 1024,
            t.elapsed().as_secs_f64() * 1e3
        );
    }
}

async fn accept(arrivals: web::Data<Arrivals>, body: web::Json<Value>) -> HttpResponse {
    let to = body["to"].as_str().unwrap_or_default().to_string();
    arrivals.lock().unwrap().push(Instant::now());
    HttpResponse::Ok().json(json!({"messaging_product": "whatsapp", "messages": [{"id": format!("wamid.{to}")}]}))
}

fn spawn_wabahub(a: &Args, db: &str, dir: &std::path::Path, port: u16, provider: &str) -> Child {
    Command::new(&a.wabahub)
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .env("DATABASE_URL", db)
        .env("WABAHUB_DATA_DIR", dir)
        .env("META_GRAPH_URL", provider)
        .env("ALLOW_PRIVATE_URLS", "true")
        .env("OUTBOX_RATE_LIMITS", "false")
        .env("OUTBOX_CONCURRENCY", "128")
        .env("OUTBOX_BATCH", "500")
        .env("HEALTH_CHECK_INTERVAL_SECS", "0")
        .env("TEMPLATE_SYNC_INTERVAL_SECS", "0")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start wabahub")
}

async fn throughput_bench(a: &Args, dir: &std::path::Path) {
    let arrivals: Arrivals = Arc::default();
    let data = web::Data::new(arrivals.clone());
    let fake = HttpServer::new(move || {
        App::new().app_data(data.clone()).route("/{version}/{phone}/messages", web::post().to(accept))
    })
    .workers(1)
    .bind("127.0.0.1:0")
    .expect("bind fake provider");
    let provider = format!("http://{}", fake.addrs()[0]);
    actix_web::rt::spawn(fake.run());
    let db = match &a.database_url {
        Some(u) => u.clone(),
        None => format!("sqlite://{}/send.db", dir.display()),
    };
    let port = 19000 + (std::process::id() % 1000) as u16;
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let mut server = spawn_wabahub(a, &db, dir, port, &provider);
    for _ in 0..200 {
        if client.get(format!("{base}/healthz")).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let signup: Value = client
        .post(format!("{base}/api/v1/auth/signup"))
        .json(&json!({"tenant_name": "Bench", "name": "Bench", "email": format!("send{}@example.com", std::process::id()), "password": "benchmark1"}))
        .send().await.unwrap().json().await.unwrap();
    let token = signup["tokens"]["access_token"].as_str().expect("signup").to_string();
    let tenant = signup["tenant"]["id"].as_i64().unwrap();
    let setup: Value = client
        .post(format!("{base}/api/v1/accounts/setup"))
        .bearer_auth(&token)
        .json(&json!({
            "name": "Bench", "provider": "meta",
            "business_account": {"meta_business_account_id": "1", "waba_id": "2"},
            "phone_number": {"phone_number": "+14155550100", "provider_phone_number_id": format!("9{}", std::process::id())},
            "access_tokens": {"access_token": "bench-token-123", "app_secret": "bench-secret-123"},
            "business_profile": {"name": "Bench"}
        }))
        .send().await.unwrap().json().await.unwrap();
    let account = setup["account"]["id"].as_i64().expect("setup");
    let phone = setup["phone_number"]["id"].as_i64().unwrap();
    client
        .patch(format!("{base}/api/v1/phone-numbers/{phone}"))
        .bearer_auth(&token)
        .json(&json!({"throughput_mps": 1000}))
        .send()
        .await
        .unwrap();
    let (seed_db, n) = (db.clone(), a.recipients);
    actix_web::web::block(move || {
        let db = Db::open(&seed_db, 2).unwrap();
        let c = &mut db.get().unwrap();
        let now = wabahub::db::now();
        let components =
            json!([{"type": "BODY", "text": "Hi {{1}}, thanks for calling {{2}}. See {{3}} now."}]).to_string();
        wabahub::store::templates::insert(
            c,
            wabahub::store::templates::NewTemplate {
                tenant_id: tenant,
                account_id: account,
                name: "ivr_follow_up".into(),
                language: "en".into(),
                category: "MARKETING".into(),
                status: "APPROVED".into(),
                provider_template_id: Some("1".into()),
                components,
                parameter_format: "POSITIONAL".into(),
                synced_at: None,
                created_at: now,
                updated_at: now,
            },
        )
        .unwrap();
        seed(c, tenant, n * 5 / 4 + 10);
    })
    .await
    .unwrap();
    let audience = audience_days(31);
    let body = json!({"name": "Bench", "account_id": account, "template": {"name": "ivr_follow_up", "language": "en"},
        "rate_mps": 1000, "audience": {"source": "ivr_calls", "from_date": audience.from_date, "to_date": audience.to_date, "limit": n}});
    let campaign: Value = client
        .post(format!("{base}/api/v1/campaigns"))
        .bearer_auth(&token)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = campaign["id"].as_i64().unwrap_or_else(|| panic!("campaign not created: {campaign}"));
    let t = Instant::now();
    let started = client.post(format!("{base}/api/v1/campaigns/{id}/start")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(started.status(), 200, "{}", started.text().await.unwrap_or_default());
    println!("started a campaign of {n} recipients (resolved, rendered, stored) in {:.2}s", t.elapsed().as_secs_f64());
    let deadline = Instant::now() + Duration::from_secs(600);
    while arrivals.lock().unwrap().len() < n && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let times = arrivals.lock().unwrap().clone();
    let end_to_end = t.elapsed();
    server.kill().ok();
    server.wait().ok();
    let span = times.last().unwrap().duration_since(times[0]).as_secs_f64().max(1e-6);
    println!(
        "sent {} campaign messages in {:.2}s at the provider: {:.0} msg/s ({:.0} msg/s including start)",
        times.len(),
        span,
        times.len() as f64 / span,
        times.len() as f64 / end_to_end.as_secs_f64()
    );
}

#[actix_web::main]
async fn main() {
    let a = args();
    let dir = tempfile::tempdir().expect("temp dir");
    println!("== audience resolution and preview, {} IVR calls", a.calls);
    resolution_bench(&a, dir.path());
    println!("== campaign throughput, rate limits off, {} recipients", a.recipients);
    throughput_bench(&a, dir.path()).await;
}
