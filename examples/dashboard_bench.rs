//! Dashboard benchmark: fills a fresh database with N messages (default 1,000,000) over 30 days and
//! 10 accounts, with the daily rollups the outbox and status updates would have written, then runs
//! a real `wabahub serve` on it and times `GET /api/v1/analytics/dashboard` and the per-account
//! analytics. Run it through `bench/dashboard.sh`.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use serde_json::{Value, json};
use wabahub::db::{self, schema::messages};
use wabahub::store::{
    self,
    messages::NewMessage,
    usage::{Counts, Tally},
};

const ACCOUNTS: i64 = 10;
const DAYS: i64 = 30;

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1).cloned())
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1000.0
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let wabahub = arg("--wabahub").unwrap_or_else(|| "target/release/wabahub".into());
    let total: i64 = arg("--messages").map_or(1_000_000, |v| v.parse().expect("--messages N"));
    let dir = tempfile::tempdir().expect("temp dir");
    let url = arg("--database-url").unwrap_or_else(|| format!("sqlite://{}/dashboard.db", dir.path().display()));

    let started = Instant::now();
    let mut conn = db::connect(&url).expect("connect");
    db::migrate(&mut conn).expect("migrate");
    let tenant = store::tenants::create(&mut conn, "Bench").unwrap();
    let email = format!("dash{}@example.com", std::process::id());
    store::users::create(
        &mut conn,
        store::users::NewUser {
            tenant_id: wabahub::domain::TenantId(tenant.id),
            email: &email,
            name: "Bench",
            password_hash: &wabahub::auth::password::hash("benchmark1"),
            role: wabahub::auth::Role::Owner,
            is_platform_admin: false,
        },
    )
    .unwrap();
    let today = chrono::Utc::now().date_naive();
    let mut accounts = Vec::new();
    for i in 0..ACCOUNTS {
        let a = wabahub::routes::accounts::insert_account(
            &mut conn,
            wabahub::domain::TenantId(tenant.id),
            &format!("Account {i}"),
            wabahub::domain::account::ProviderKind::Sandbox,
        )
        .unwrap();
        let ts = db::now();
        let phone = store::phone_numbers::insert(
            &mut conn,
            store::phone_numbers::NewPhoneNumber {
                tenant_id: tenant.id,
                account_id: a.id,
                phone_number: format!("+1415555{:04}", i),
                provider_phone_number_id: None,
                display_phone_number: format!("+1415555{:04}", i),
                verified_name: None,
                quality_rating: "GREEN".into(),
                messaging_limit_tier: None,
                throughput_mps: 80.0,
                status: "CONNECTED".into(),
                is_default: true,
                created_at: ts,
                updated_at: ts,
            },
        )
        .unwrap();
        accounts.push((a.id, phone.id));
    }

    let statuses = ["read", "read", "read", "delivered", "delivered", "sent", "failed"];
    let codes = ["131026", "131047", "130429", "131049"];
    let mut rollups = Tally::default();
    let mut batch = Vec::with_capacity(1000);
    for n in 0..total {
        let (account, phone) = accounts[(n % ACCOUNTS) as usize];
        let day = today - chrono::Duration::days(n % DAYS);
        let status = statuses[(n % statuses.len() as i64) as usize];
        let template = (n % 3 == 0).then(|| format!("template_{}", n % 5));
        let at = day.and_hms_opt(12, 0, 0).unwrap();
        let mut t = Counts::default();
        match status {
            "failed" => {
                t.failed = 1;
                rollups.add_failure(tenant.id, account, day, codes[(n % 4) as usize], 1);
            }
            s => {
                t.sent = 1;
                t.delivered = i64::from(s != "sent");
                t.read = i64::from(s == "read");
            }
        }
        rollups.add(tenant.id, account, day, t);
        if let Some(name) = &template {
            rollups.add_template(tenant.id, account, day, name, t);
        }
        batch.push(NewMessage {
            tenant_id: tenant.id,
            account_id: account,
            phone_number_id: phone,
            direction: "outbound".into(),
            recipient: format!("+1202{:07}", n % 10_000_000),
            kind: if template.is_some() { "template" } else { "text" }.into(),
            payload: "{\"type\":\"text\",\"body\":\"bench\"}".into(),
            status: status.into(),
            next_attempt_at: at,
            idempotency_key: None,
            idempotency_hash: None,
            campaign_id: None,
            template_name: template,
            created_at: at,
            updated_at: at,
        });
        if batch.len() == 1000 || n == total - 1 {
            let rows = std::mem::take(&mut batch);
            // Multi-row inserts run on the backend's own connection (the shared one lacks them).
            let inserted = match &mut conn {
                db::DbConn::Sqlite(c) => {
                    c.transaction(|c| diesel::insert_into(messages::table).values(&rows).execute(c))
                }
                db::DbConn::Pg(c) => diesel::insert_into(messages::table).values(&rows).execute(c),
            };
            inserted.expect("insert messages");
        }
    }
    db::write_tx(&mut conn, |c| rollups.write(c)).expect("rollups");
    let stored: i64 = messages::table.count().get_result(&mut conn).unwrap();
    println!("stored {stored} messages (and their rollups) in {:.1}s", started.elapsed().as_secs_f64());
    drop(conn);

    let port = 19000 + (std::process::id() % 1000) as u16;
    let mut server = Command::new(&wabahub)
        .args(["serve", "--bind", &format!("127.0.0.1:{port}"), "--database-url", &url])
        .env("WABAHUB_DATA_DIR", dir.path())
        .env("OUTBOX_ENABLED", "false")
        .env("HEALTH_CHECK_INTERVAL_SECS", "0")
        .env("TEMPLATE_SYNC_INTERVAL_SECS", "0")
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start wabahub");
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    for _ in 0..200 {
        if client.get(format!("{base}/healthz")).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let login: Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": email, "password": "benchmark1"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["access_token"].as_str().expect("login").to_string();
    for (label, path) in [
        ("tenant dashboard", "/api/v1/analytics/dashboard".to_string()),
        ("account analytics", format!("/api/v1/accounts/{}/analytics", accounts[0].0)),
    ] {
        let mut times = Vec::new();
        let mut body = Value::Null;
        for _ in 0..200 {
            let t = Instant::now();
            body = client.get(format!("{base}{path}")).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
            times.push(t.elapsed());
        }
        times.sort();
        println!(
            "{label}: p50 {:.2} ms, p95 {:.2} ms, max {:.2} ms over 200 requests (totals {})",
            percentile(&times, 0.5),
            percentile(&times, 0.95),
            times.last().unwrap().as_secs_f64() * 1000.0,
            body["totals"]
        );
    }
    server.kill().ok();
    server.wait().ok();
}
