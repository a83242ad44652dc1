//! Webhook ingest benchmark: signed Meta status webhooks per second that a real `wabahub serve`
//! accepts (200) and durably stores, against a yardstick — a minimal actix-web handler that
//! reads the body and answers 200 — driven by the same client with the same bodies.
//!
//! `--target wabahub` starts the server (SQLite in a scratch folder, or `--database-url`), sets up
//! a Meta account with an app secret and the sent messages the statuses speak of, sends `--events`
//! distinct signed bodies over `--connections` keep-alive HTTP/1.1 connections, resends some of
//! them (duplicates must change nothing), waits until every event is applied (the processor gives
//! way to ingest during the burst), then kills the server with SIGKILL and counts the stored
//! rows: every 200 must have its row.
//! `--target yardstick` runs the same load against the minimal handler in a child process.
//! Prints `RESULT <label> <events/s>`. Run it through `bench/webhook_ingest.sh`.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use serde_json::{Value, json};
use tokio::net::TcpStream;

struct Args {
    target: String,
    wabahub: String,
    events: usize,
    connections: usize,
    workers: usize,
    database_url: Option<String>,
    yardstick_bind: Option<String>,
}

fn args() -> Args {
    let mut a = Args {
        target: "wabahub".into(),
        wabahub: "target/release/wabahub".into(),
        events: 50_000,
        connections: 64,
        workers: 0,
        database_url: None,
        yardstick_bind: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().expect("every flag takes a value");
        match flag.as_str() {
            "--target" => a.target = value,
            "--wabahub" => a.wabahub = value,
            "--events" => a.events = value.parse().expect("--events N"),
            "--connections" => a.connections = value.parse().expect("--connections N"),
            "--workers" => a.workers = value.parse().expect("--workers N"),
            "--database-url" => a.database_url = Some(value),
            "--serve-yardstick" => a.yardstick_bind = Some(value),
            other => panic!("unknown flag {other}"),
        }
    }
    if a.workers == 0 {
        a.workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    }
    a
}

/// The yardstick: reads the whole body, answers 200 with no body (as the webhook route does).
async fn yardstick_handler(_body: actix_web::web::Bytes) -> actix_web::HttpResponse {
    actix_web::HttpResponse::Ok().finish()
}

/// Runs the yardstick server until killed (the child process of `--target yardstick`).
fn serve_yardstick(bind: &str, workers: usize) {
    actix_web::rt::System::new().block_on(async {
        actix_web::HttpServer::new(|| {
            actix_web::App::new()
                .app_data(actix_web::web::PayloadConfig::new(3 * 1024 * 1024))
                .route("/webhooks/meta/{key}", actix_web::web::post().to(yardstick_handler))
                .route("/healthz", actix_web::web::get().to(actix_web::HttpResponse::Ok))
        })
        .workers(workers)
        .bind(bind)
        .expect("bind yardstick")
        .run()
        .await
        .expect("yardstick server");
    });
}

/// One Meta `messages` webhook with one status update (reference §webhooks, statuses[]).
fn status_body(i: usize, phone_id: &str) -> String {
    json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "14155550100", "phone_number_id": phone_id},
            "statuses": [{
                "id": format!("wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI{i:016X}"),
                "status": "delivered",
                "timestamp": (1_750_000_000 + i).to_string(),
                "recipient_id": "919876543210",
                "conversation": {"id": format!("CONVERSATION_{i}"), "origin": {"type": "utility"}},
                "pricing": {"billable": true, "pricing_model": "PMP", "type": "regular", "category": "utility"}
            }]
        }}]}]
    })
    .to_string()
}

/// A body with its `X-Hub-Signature-256`.
#[derive(Clone)]
struct Signed {
    body: Bytes,
    signature: String,
}

fn signed(body: String, secret: &str) -> Signed {
    let signature =
        format!("sha256={}", hex::encode(wabahub::providers::meta::signature::sign(secret, body.as_bytes())));
    Signed { body: Bytes::from(body), signature }
}

/// Statuses of one load run and the latency of every request.
#[derive(Default)]
struct Outcome {
    ok: usize,
    other: Vec<u16>,
    latencies: Vec<Duration>,
}

/// Sends every body once over `connections` keep-alive HTTP/1.1 connections (each takes the next
/// unsent body when its previous answer arrived).
async fn load(addr: &str, path: &str, bodies: Arc<Vec<Signed>>, connections: usize) -> Outcome {
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (addr, path, bodies, next) = (addr.to_string(), path.to_string(), bodies.clone(), next.clone());
        tasks.push(tokio::spawn(async move {
            let stream = TcpStream::connect(&addr).await.expect("connect");
            stream.set_nodelay(true).unwrap();
            let io = hyper_util::rt::TokioIo::new(stream);
            let (mut sender, conn) = hyper::client::conn::http1::handshake(io).await.expect("handshake");
            tokio::spawn(conn);
            let mut out = Outcome::default();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(b) = bodies.get(i) else { break };
                let req = hyper::Request::post(&path)
                    .header("host", &addr)
                    .header("content-type", "application/json")
                    .header("x-hub-signature-256", &b.signature)
                    .body(Full::new(b.body.clone()))
                    .unwrap();
                let started = Instant::now();
                let res = sender.send_request(req).await.expect("request");
                let status = res.status().as_u16();
                res.into_body().collect().await.expect("response body");
                out.latencies.push(started.elapsed());
                if status == 200 { out.ok += 1 } else { out.other.push(status) }
            }
            out
        }));
    }
    let mut all = Outcome::default();
    for t in tasks {
        let o = t.await.unwrap();
        all.ok += o.ok;
        all.other.extend(o.other);
        all.latencies.extend(o.latencies);
    }
    all.latencies.sort();
    all
}

fn ms(sorted: &[Duration], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1000.0
}

/// Runs the timed load and prints its rate; returns the number of 200s.
async fn measure(label: &str, addr: &str, path: &str, bodies: Arc<Vec<Signed>>, connections: usize) -> usize {
    let n = bodies.len();
    let started = Instant::now();
    let out = load(addr, path, bodies, connections).await;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{label}: {n} signed status webhooks over {connections} connections in {secs:.2}s; 200: {}, other: {}; latency p50 {:.2} ms, p99 {:.2} ms",
        out.ok,
        out.other.len(),
        ms(&out.latencies, 0.5),
        ms(&out.latencies, 0.99)
    );
    assert!(out.other.is_empty(), "non-200 answers: {:?}", &out.other[..out.other.len().min(10)]);
    println!("RESULT {label} {:.0}", out.ok as f64 / secs);
    out.ok
}

async fn wait_up(addr: &str) {
    let client = reqwest::Client::new();
    for _ in 0..400 {
        if client.get(format!("http://{addr}/healthz")).send().await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the server on {addr} did not start");
}

fn port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn yardstick(a: &Args, bodies: Arc<Vec<Signed>>, warmup: Arc<Vec<Signed>>) {
    let addr = format!("127.0.0.1:{}", port());
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--serve-yardstick", &addr, "--workers", &a.workers.to_string()])
        .stdout(Stdio::null())
        .spawn()
        .expect("start the yardstick");
    client_runtime().block_on(async {
        wait_up(&addr).await;
        load(&addr, "/webhooks/meta/yardstick", warmup, a.connections).await;
        measure("yardstick", &addr, "/webhooks/meta/yardstick", bodies, a.connections).await;
    });
    child.kill().ok();
    child.wait().ok();
}

fn spawn_wabahub(a: &Args, dir: &std::path::Path, addr: &str, url: &str) -> Child {
    Command::new(&a.wabahub)
        .args(["serve", "--bind", addr])
        .env("DATABASE_URL", url)
        .env("WABAHUB_DATA_DIR", dir)
        .env("WABAHUB_WORKERS", a.workers.to_string())
        .env("META_GRAPH_URL", "http://127.0.0.1:9")
        .env("ALLOW_PRIVATE_URLS", "true")
        .env("OUTBOX_ENABLED", "false")
        .env("RELAY_ENABLED", "false")
        .env("HEALTH_CHECK_INTERVAL_SECS", "0")
        .env("TEMPLATE_SYNC_INTERVAL_SECS", "0")
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start wabahub")
}

/// Signs up and sets up a Meta account with an app secret; returns its webhook path.
async fn meta_account(addr: &str, phone_id: &str, secret: &str) -> String {
    let client = reqwest::Client::new();
    let base = format!("http://{addr}");
    let signup: Value = client
        .post(format!("{base}/api/v1/auth/signup"))
        .json(&json!({"tenant_name": "Bench", "name": "Bench", "email": "bench@example.com", "password": "benchmark1"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = signup["tokens"]["access_token"].as_str().expect("signup").to_string();
    let setup: Value = client
        .post(format!("{base}/api/v1/accounts/setup"))
        .bearer_auth(&token)
        .json(&json!({
            "name": "Bench", "provider": "meta",
            "business_account": {"meta_business_account_id": "1", "waba_id": "102290129340398"},
            "phone_number": {"phone_number": "+14155550100", "provider_phone_number_id": phone_id},
            "access_tokens": {"access_token": "bench-token-123", "app_secret": secret},
            "business_profile": {"name": "Bench"}
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let url = setup["account"]["webhook_url"].as_str().unwrap_or_else(|| panic!("setup: {setup}"));
    url[url.find("/webhooks/").unwrap()..].to_string()
}

/// Stores the outbound messages the status webhooks speak of (`wamid…{i:016X}` for i < `n`), as
/// sent, so applying a status really moves a message forward.
fn seed_messages(url: &str, n: usize) {
    use diesel::RunQueryDsl;
    let hex = if url.starts_with("sqlite") { "printf('%016X', i)" } else { "lpad(upper(to_hex(i)), 16, '0')" };
    let sql = format!(
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {last}) \
         INSERT INTO messages (tenant_id, account_id, phone_number_id, direction, recipient, kind, payload, status, \
             provider_message_id, next_attempt_at, created_at, updated_at, sent_at) \
         SELECT p.tenant_id, p.account_id, p.id, 'outbound', '+919876543210', 'template', '{{}}', 'sent', \
             'wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI' || {hex}, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, \
             CURRENT_TIMESTAMP FROM n, phone_numbers p",
        last = n - 1
    );
    let mut conn = wabahub::db::connect(url).expect("connect to the database");
    let seeded = diesel::sql_query(sql).execute(&mut conn).expect("seed messages");
    assert_eq!(seeded, n, "one phone number, one message per status");
}

/// Rows stored for the account's events.
fn stored(url: &str) -> i64 {
    use diesel::prelude::*;
    use wabahub::db::schema::webhook_events as e;
    let mut conn = wabahub::db::connect(url).expect("connect to the database");
    e::table.count().get_result(&mut conn).unwrap()
}

/// Events the processor has still to apply: read through its partial index of waiting events
/// (spelled as the index's condition, so both backends use it), so polling costs the server being
/// measured little.
fn waiting(conn: &mut wabahub::db::DbConn) -> i64 {
    use diesel::prelude::*;
    use wabahub::db::schema::webhook_events as e;
    let waiting = e::processed_at.is_null().and(diesel::dsl::not(e::quarantined));
    e::table.filter(waiting).count().get_result(conn).unwrap()
}

fn wabahub_run(a: &Args, phone_id: &str, secret: &str, n: usize) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = a.database_url.clone().unwrap_or_else(|| format!("sqlite://{}/bench.db", dir.path().display()));
    let label = if url.starts_with("sqlite") { "wabahub-sqlite" } else { "wabahub-postgres" };
    let addr = format!("127.0.0.1:{}", port());
    let mut server = spawn_wabahub(a, dir.path(), &addr, &url);
    let rt = client_runtime();
    let (path, accepted, warm) = rt.block_on(async {
        wait_up(&addr).await;
        let path = meta_account(&addr, phone_id, secret).await;
        seed_messages(&url, n + n / 10);
        let warmup = Arc::new((n..n + n / 10).map(|i| signed(status_body(i, phone_id), secret)).collect::<Vec<_>>());
        let warm = load(&addr, &path, warmup.clone(), a.connections).await.ok;
        let bodies = Arc::new((0..n).map(|i| signed(status_body(i, phone_id), secret)).collect::<Vec<_>>());
        let accepted = measure(label, &addr, &path, bodies.clone(), a.connections).await;
        // Redeliveries: answered 200 and stored, to be recognised when applied.
        let again = Arc::new(bodies.iter().take(2000).cloned().collect());
        let dup = load(&addr, &path, again, a.connections).await;
        assert!(dup.other.is_empty(), "a redelivery was not answered 200: {:?}", dup.other);
        println!("redelivered {} bodies: all answered 200", dup.ok);
        (path, accepted, warm + dup.ok)
    });
    // The processor gives way to ingest during the burst and catches up after it.
    let total = warm + accepted;
    let mut conn = wabahub::db::connect(&url).expect("connect to the database");
    let applied_during = total as i64 - waiting(&mut conn);
    let drained = Instant::now();
    let mut applied = applied_during;
    while (applied as usize) < total && drained.elapsed() < Duration::from_secs(300) {
        std::thread::sleep(Duration::from_millis(50));
        applied = total as i64 - waiting(&mut conn);
    }
    drop(conn);
    let secs = drained.elapsed().as_secs_f64();
    println!(
        "applied {applied_during} events while receiving, the other {} in {secs:.2}s after ({:.0} events/s)",
        applied - applied_during,
        (applied - applied_during) as f64 / secs
    );
    // Kill without warning: whatever was answered 200 must already be in the database.
    server.kill().ok();
    server.wait().ok();
    let rows = stored(&url);
    println!(
        "after SIGKILL: {rows} rows stored for {total} bodies answered 200 (warm-up and redeliveries {warm} + measured {accepted})"
    );
    assert_eq!(rows as usize, total, "every accepted delivery is stored exactly once ({path})");
    assert_eq!(applied as usize, total, "every stored event was applied within 300 s");
}

fn client_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

fn main() {
    let a = args();
    if let Some(bind) = &a.yardstick_bind {
        return serve_yardstick(bind, a.workers);
    }
    let (phone_id, secret) = ("106540352242922", "bench-app-secret-123");
    match a.target.as_str() {
        "wabahub" => wabahub_run(&a, phone_id, secret, a.events),
        "yardstick" => {
            let n = a.events;
            let warmup = Arc::new((n..n + n / 10).map(|i| signed(status_body(i, phone_id), secret)).collect());
            let bodies = Arc::new((0..n).map(|i| signed(status_body(i, phone_id), secret)).collect());
            yardstick(&a, bodies, warmup)
        }
        other => panic!("unknown --target {other} (wabahub or yardstick)"),
    }
}
