//! The test harness: a real server on 127.0.0.1:0 with a fresh database per test.
//! SQLite by default; PostgreSQL when `TEST_DATABASE_URL` is set (a fresh database per test,
//! cloned from one migrated template database).

use std::net::TcpListener;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection, RunQueryDsl};
use reqwest::StatusCode;
use serde_json::{Value, json};
use wabahub::config::{Environment, Settings};
use wabahub::db::Db;
use wabahub::startup::Application;
use wabahub::state::AppState;

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub state: AppState,
    pub database_url: String,
    pub dir: tempfile::TempDir,
}

/// A signed-up tenant owner.
#[derive(Clone, Debug)]
pub struct Tenant {
    pub id: i64,
    pub user_id: i64,
    pub token: String,
    pub refresh_token: String,
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// The PostgreSQL admin URL, when the tests run against PostgreSQL.
pub fn pg_admin_url() -> Option<String> {
    std::env::var("TEST_DATABASE_URL").ok().filter(|u| !u.is_empty())
}

fn url_with_db(admin: &str, db: &str) -> String {
    let (head, _) = admin.rsplit_once('/').expect("TEST_DATABASE_URL has a database name");
    format!("{head}/{db}")
}

/// Creates (once per process) a migrated template database and returns its name.
fn pg_template(admin: &str) -> &'static str {
    static TEMPLATE: OnceLock<String> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let pid = std::process::id();
        let name = format!("wabahub_tpl_{pid}");
        let mut conn = PgConnection::establish(admin).expect("connect to TEST_DATABASE_URL");
        let stale: Vec<String> =
            diesel::sql_query("SELECT datname AS name FROM pg_database WHERE datname LIKE 'wabahub\\_t%'")
                .load::<NameRow>(&mut conn)
                .expect("list databases")
                .into_iter()
                .map(|r| r.name)
                .filter(|n| {
                    owner_pid(n).is_some_and(|p| p != pid && !std::path::Path::new(&format!("/proc/{p}")).exists())
                })
                .collect();
        for db in stale {
            let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)"));
        }
        conn.batch_execute(&format!("CREATE DATABASE \"{name}\"")).expect("create template database");
        let mut tpl = wabahub::db::connect(&url_with_db(admin, &name)).expect("connect to template");
        wabahub::db::migrate(&mut tpl).expect("migrate template");
        drop(tpl);
        name
    })
}

/// The test process that created a database named `wabahub_tpl_<pid>` or `wabahub_t_<pid>_<n>`.
fn owner_pid(name: &str) -> Option<u32> {
    let rest = name.strip_prefix("wabahub_tpl_").or_else(|| name.strip_prefix("wabahub_t_"))?;
    rest.split('_').next()?.parse().ok()
}

#[derive(diesel::QueryableByName)]
struct NameRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
}

/// A fresh database URL for one test.
pub fn fresh_database(dir: &std::path::Path) -> String {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    match pg_admin_url() {
        None => format!("sqlite://{}/test.db", dir.display()),
        Some(admin) => {
            let template = pg_template(&admin);
            let name = format!("wabahub_t_{}_{n}", std::process::id());
            let mut conn = PgConnection::establish(&admin).expect("connect to TEST_DATABASE_URL");
            let mut tries = 0;
            while let Err(e) = conn.batch_execute(&format!("CREATE DATABASE \"{name}\" TEMPLATE \"{template}\"")) {
                tries += 1;
                assert!(tries < 20, "cannot clone the template database: {e}");
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            url_with_db(&admin, &name)
        }
    }
}

/// Settings for a test: fresh keys, a temp data folder, one worker, private URLs allowed.
pub fn test_settings(dir: &std::path::Path, database_url: String) -> Settings {
    Settings {
        database_url,
        bind: "127.0.0.1:0".into(),
        env: Environment::Development,
        data_dir: dir.to_path_buf(),
        fernet_keys: vec![fernet::Fernet::generate_key()],
        jwt_secret: wabahub::auth::tokens::random_token(),
        access_token_ttl_secs: 900,
        refresh_token_ttl_secs: 3600,
        public_base_url: "http://127.0.0.1:1".into(),
        meta_graph_url: "http://127.0.0.1:9".into(),
        meta_api_version: "v23.0".into(),
        meta_app_id: None,
        meta_app_secret: None,
        meta_verify_token: None,
        tata_base_url: "http://127.0.0.1:9".into(),
        tata_allowed_base_urls: Vec::new(),
        allow_signup: true,
        db_pool_size: 4,
        max_body_bytes: 64 * 1024,
        login_max_failures: 5,
        login_max_failures_per_email: 50,
        login_window_secs: 900,
        signup_max_per_address: 10,
        trusted_proxies: Vec::new(),
        workers: 1,
        outbox_enabled: true,
        outbox_batch: 200,
        outbox_concurrency: 16,
        outbox_lease_secs: 5,
        unknown_settle_secs: 3600,
        outbox_max_attempts: 3,
        outbox_rate_limits: true,
        provider_timeout_secs: 2,
        sandbox_approval_secs: 1,
        health_check_interval_secs: 0,
        template_sync_interval_secs: 0,
        // The fake providers and media servers of the tests listen on 127.0.0.1; tests of the
        // public-address guard turn this off.
        allow_private_urls: true,
        relay_enabled: true,
        relay_retry_window_secs: 24 * 3600,
        relay_retry_base_ms: 100,
        default_country_code: "91".into(),
        cta_token_ttl_secs: 3600,
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Spawns the app after letting the test adjust its settings.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let dir = tempfile::tempdir().expect("temp dir");
    let database_url = fresh_database(dir.path());
    let mut settings = test_settings(dir.path(), database_url.clone());
    adjust(&mut settings);
    let db = Db::open(&settings.database_url, settings.db_pool_size).expect("open database");
    let state = AppState::new(settings, db).expect("state");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let app = Application::with_listener(state.clone(), listener).expect("build app");
    let base = format!("http://127.0.0.1:{}", app.port());
    actix_web::rt::spawn(app.run_until_stopped());
    TestApp { base, client: reqwest::Client::new(), state, database_url, dir }
}

/// A response's status and JSON body (Null when the body is empty or not JSON).
pub struct Res {
    pub status: StatusCode,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Res {
    /// Asserts the status, printing the body when it differs.
    #[track_caller]
    pub fn expect(self, status: u16) -> Value {
        assert_eq!(self.status.as_u16(), status, "unexpected status; body: {}", self.text);
        self.body
    }

    /// Asserts a problem response with this status and code.
    #[track_caller]
    pub fn problem(self, status: u16, code: &str) -> Value {
        assert_eq!(self.status.as_u16(), status, "unexpected status; body: {}", self.text);
        let ct = self.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
        assert!(ct.starts_with("application/problem+json"), "content-type {ct}");
        assert_eq!(self.body["code"], code, "body: {}", self.text);
        assert_eq!(self.body["status"], status);
        self.body
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// Sends a request with an optional bearer token and JSON body.
    pub async fn call(&self, method: &str, path: &str, token: Option<&str>, body: Option<Value>) -> Res {
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        Self::read(req.send().await.expect("request failed")).await
    }

    pub async fn read(res: reqwest::Response) -> Res {
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Res { status, headers, body, text }
    }

    pub async fn get(&self, path: &str, token: &str) -> Res {
        self.call("GET", path, Some(token), None).await
    }
    pub async fn post(&self, path: &str, token: &str, body: Value) -> Res {
        self.call("POST", path, Some(token), Some(body)).await
    }
    pub async fn put(&self, path: &str, token: &str, body: Value) -> Res {
        self.call("PUT", path, Some(token), Some(body)).await
    }
    pub async fn patch(&self, path: &str, token: &str, body: Value) -> Res {
        self.call("PATCH", path, Some(token), Some(body)).await
    }
    pub async fn delete(&self, path: &str, token: &str) -> Res {
        self.call("DELETE", path, Some(token), None).await
    }

    /// Signs up a new tenant whose owner's email starts with `name`.
    pub async fn signup(&self, name: &str) -> Tenant {
        let email = format!("{name}@example.com");
        let body = self
            .call(
                "POST",
                "/api/v1/auth/signup",
                None,
                Some(json!({"tenant_name": format!("{name} Ltd"), "name": name, "email": email, "password": "password123"})),
            )
            .await
            .expect(201);
        Tenant {
            id: body["tenant"]["id"].as_i64().unwrap(),
            user_id: body["user"]["id"].as_i64().unwrap(),
            token: body["tokens"]["access_token"].as_str().unwrap().to_string(),
            refresh_token: body["tokens"]["refresh_token"].as_str().unwrap().to_string(),
        }
    }

    /// Logs in and returns the access token.
    pub async fn login(&self, email: &str, password: &str) -> String {
        let body = self
            .call("POST", "/api/v1/auth/login", None, Some(json!({"email": email, "password": password})))
            .await
            .expect(200);
        body["access_token"].as_str().unwrap().to_string()
    }

    /// Creates a platform admin through the CLI code path and returns its token.
    pub async fn platform_admin(&self) -> String {
        let db = self.state.db.clone();
        actix_web::web::block(move || {
            wabahub::cli::create_platform_admin(&db, "root@platform.test", "Root", "rootpassword").unwrap()
        })
        .await
        .unwrap();
        self.login("root@platform.test", "rootpassword").await
    }
}

/// The raw stored data, to search for plaintext secrets: the SQLite files byte for byte, or
/// every row of every PostgreSQL table as JSON.
pub async fn raw_dump(app: &TestApp) -> String {
    let url = app.database_url.clone();
    let dir = app.dir.path().to_path_buf();
    actix_web::web::block(move || {
        if url.starts_with("sqlite://") {
            let mut out = Vec::new();
            for entry in std::fs::read_dir(&dir).unwrap().flatten() {
                if entry.file_name().to_string_lossy().starts_with("test.db") {
                    out.extend(std::fs::read(entry.path()).unwrap());
                }
            }
            return String::from_utf8_lossy(&out).into_owned();
        }
        let mut conn = wabahub::db::connect(&url).unwrap();
        let tables: Vec<NameRow> = diesel::sql_query(
            "SELECT table_name::text AS name FROM information_schema.tables WHERE table_schema = 'public'",
        )
        .load(&mut conn)
        .unwrap();
        let mut out = String::new();
        for t in tables {
            let rows: Vec<NameRow> =
                diesel::sql_query(format!("SELECT row_to_json(t)::text AS name FROM \"{}\" t", t.name))
                    .load(&mut conn)
                    .unwrap();
            rows.into_iter().for_each(|r| out.push_str(&r.name));
        }
        out
    })
    .await
    .unwrap()
}
