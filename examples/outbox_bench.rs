//! Outbox benchmark: starts a fake Meta Cloud API on 127.0.0.1, runs a real `wabahub serve`
//! against it, queues N messages through the API, then measures how fast the outbox dispatches
//! them. With `--rate R` the sending number is limited to R msg/s and the fake provider reports
//! the busiest 1-second window it saw. Run it through `bench/outbox.sh`.

use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{App, HttpResponse, HttpServer, web};
use serde_json::{Value, json};

/// Arrival times of every message the fake provider accepted.
type Arrivals = Arc<Mutex<Vec<Instant>>>;

struct Args {
    wabahub: String,
    messages: usize,
    rate: Option<f64>,
    database_url: Option<String>,
}

fn args() -> Args {
    let mut a = Args { wabahub: "target/release/wabahub".into(), messages: 20_000, rate: None, database_url: None };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().expect("every flag takes a value");
        match flag.as_str() {
            "--wabahub" => a.wabahub = value,
            "--messages" => a.messages = value.parse().expect("--messages N"),
            "--rate" => a.rate = Some(value.parse().expect("--rate R")),
            "--database-url" => a.database_url = Some(value),
            other => panic!("unknown flag {other}"),
        }
    }
    a
}

async fn accept(arrivals: web::Data<Arrivals>, body: web::Json<Value>) -> HttpResponse {
    arrivals.lock().unwrap().push(Instant::now());
    let to = body["to"].as_str().unwrap_or_default().to_string();
    let n = arrivals.lock().unwrap().len();
    HttpResponse::Ok().json(json!({
        "messaging_product": "whatsapp",
        "contacts": [{"input": to, "wa_id": to}],
        "messages": [{"id": format!("wamid.BENCH{n}"), "message_status": "accepted"}]
    }))
}

fn spawn_wabahub(a: &Args, dir: &std::path::Path, port: u16, provider: &str, outbox: bool) -> Child {
    let db = a.database_url.clone().unwrap_or_else(|| format!("sqlite://{}/bench.db", dir.display()));
    Command::new(&a.wabahub)
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .env("DATABASE_URL", db)
        .env("WABAHUB_DATA_DIR", dir)
        .env("META_GRAPH_URL", provider)
        .env("ALLOW_PRIVATE_URLS", "true")
        .env("OUTBOX_ENABLED", outbox.to_string())
        .env("OUTBOX_RATE_LIMITS", a.rate.is_some().to_string())
        .env("OUTBOX_CONCURRENCY", "128")
        .env("OUTBOX_BATCH", "500")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start wabahub")
}

async fn wait_up(client: &reqwest::Client, base: &str) {
    for _ in 0..200 {
        if client.get(format!("{base}/healthz")).send().await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("wabahub did not start");
}

/// Creates the `bench` template (one body parameter) and approves it with a signed status webhook,
/// as Meta would: bulk sends are templates (free-form text needs an open customer-service window).
async fn approve_template(client: &reqwest::Client, base: &str, token: &str, setup: &Value) {
    let account = setup["account"]["id"].as_i64().expect("setup");
    let template = json!({"name": "bench", "language": "en_US", "category": "UTILITY",
        "components": [{"type": "BODY", "text": "Hello {{1}}, this is a benchmark.", "example": {"body_text": [["Ann"]]}}]});
    let res = client
        .post(format!("{base}/api/v1/accounts/{account}/templates"))
        .bearer_auth(token)
        .json(&template)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap_or_default());
    let body = json!({"object": "whatsapp_business_account", "entry": [{"id": "2", "changes": [{"field": "message_template_status_update",
        "value": {"event": "APPROVED", "message_template_name": "bench", "message_template_language": "en_US"}}]}]})
    .to_string();
    let url = setup["account"]["webhook_url"].as_str().unwrap();
    let sig = hex::encode(wabahub::providers::meta::signature::sign("bench-secret-123", body.as_bytes()));
    client
        .post(format!("{base}{}", &url[url.find("/webhooks/").unwrap()..]))
        .header("x-hub-signature-256", format!("sha256={sig}"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    for _ in 0..400 {
        let t: Value = client
            .get(format!("{base}/api/v1/accounts/{account}/templates"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if t["data"][0]["status"] == "APPROVED" {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the bench template was not approved");
}

#[actix_web::main]
async fn main() {
    let a = args();
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

    let dir = tempfile::tempdir().expect("temp dir");
    let port = 18000 + (std::process::id() % 1000) as u16;
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();

    let mut server = spawn_wabahub(&a, dir.path(), port, &provider, false);
    wait_up(&client, &base).await;
    let signup: Value = client
        .post(format!("{base}/api/v1/auth/signup"))
        .json(&json!({"tenant_name": "Bench", "name": "Bench", "email": format!("bench{}@example.com", std::process::id()), "password": "benchmark1"}))
        .send().await.unwrap().json().await.unwrap();
    let token = signup["tokens"]["access_token"].as_str().expect("signup").to_string();
    let setup: Value = client
        .post(format!("{base}/api/v1/accounts/setup"))
        .bearer_auth(&token)
        .json(&json!({
            "name": "Bench", "provider": "meta",
            "business_account": {"meta_business_account_id": "1", "waba_id": "2"},
            "phone_number": {"phone_number": "+14155550100", "provider_phone_number_id": format!("{}", std::process::id())},
            "access_tokens": {"access_token": "bench-token-123", "app_secret": "bench-secret-123"},
            "business_profile": {"name": "Bench"}
        }))
        .send().await.unwrap().json().await.unwrap();
    let account = setup["account"]["id"].as_i64().expect("setup");
    let phone = setup["phone_number"]["id"].as_i64().unwrap();
    approve_template(&client, &base, &token, &setup).await;
    let rate = a.rate.unwrap_or(1000.0);
    client
        .patch(format!("{base}/api/v1/phone-numbers/{phone}"))
        .bearer_auth(&token)
        .json(&json!({"throughput_mps": rate}))
        .send()
        .await
        .unwrap();

    let started = Instant::now();
    let sem = Arc::new(tokio::sync::Semaphore::new(32));
    let mut tasks = Vec::with_capacity(a.messages);
    for i in 0..a.messages {
        let (client, base, token, sem) = (client.clone(), base.clone(), token.clone(), sem.clone());
        tasks.push(tokio::spawn(async move {
            let _permit = sem.acquire().await.unwrap();
            let res = client
                .post(format!("{base}/api/v1/messages"))
                .bearer_auth(token)
                .json(&json!({"account_id": account, "to": format!("+1202{:07}", i), "message": {"type": "template", "name": "bench", "language": "en_US", "components": {"body": [{"text": "benchmark"}]}}}))
                .send().await.unwrap();
            assert_eq!(res.status(), 202, "{}", res.text().await.unwrap_or_default());
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let queued_in = started.elapsed();
    println!(
        "queued {} messages through the API in {:.2}s ({:.0} req/s)",
        a.messages,
        queued_in.as_secs_f64(),
        a.messages as f64 / queued_in.as_secs_f64()
    );
    server.kill().ok();
    server.wait().ok();

    let mut server = spawn_wabahub(&a, dir.path(), port, &provider, true);
    let started = Instant::now();
    let deadline = started + Duration::from_secs(600);
    while arrivals.lock().unwrap().len() < a.messages && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let times = arrivals.lock().unwrap().clone();
    server.kill().ok();
    server.wait().ok();
    let (first, last) = (times[0], *times.last().unwrap());
    let span = last.duration_since(first).as_secs_f64().max(1e-6);
    println!("dispatched {} messages in {:.2}s: {:.0} msg/s", times.len(), span, times.len() as f64 / span);
    let mut busiest = 0;
    let mut j = 0;
    for i in 0..times.len() {
        while times[i].duration_since(times[j]) >= Duration::from_secs(1) {
            j += 1;
        }
        busiest = busiest.max(i - j + 1);
    }
    println!("busiest 1-second window at the provider: {busiest} messages");
    if let Some(r) = a.rate {
        println!(
            "limit {r} msg/s: sustained {:.1} msg/s ({:+.1}% of the limit)",
            times.len() as f64 / span,
            (times.len() as f64 / span / r - 1.0) * 100.0
        );
    }
}
