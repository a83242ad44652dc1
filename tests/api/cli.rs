//! `verify_cli`: the built `wabahub` binary, run as a person would run it.

use std::path::Path;
use std::process::{Command, Output};

use crate::helpers::*;

/// Runs the binary in `dir` with only the given environment (no `.env`, no inherited settings).
fn wabahub(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wabahub"));
    cmd.args(args).current_dir(dir).env_clear().env("RUST_LOG", "warn").env("WABAHUB_DATA_DIR", dir.join("data"));
    cmd.envs(env.iter().copied());
    cmd.output().expect("run the wabahub binary")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[track_caller]
fn assert_success(out: &Output) {
    assert!(out.status.success(), "exit {:?}\nstdout: {}\nstderr: {}", out.status, stdout(out), stderr(out));
}

/// Asserts a failed run whose stderr says every one of `needles`.
#[track_caller]
fn assert_failure(out: &Output, needles: &[&str]) {
    assert!(!out.status.success(), "expected a failure; stdout: {}", stdout(out));
    let err = stderr(out);
    for needle in needles {
        assert!(err.contains(needle), "stderr lacks {needle:?}: {err}");
    }
}

#[test]
fn help_lists_the_subcommands() {
    let dir = tempfile::tempdir().unwrap();
    let out = wabahub(dir.path(), &["--help"], &[]);
    assert_success(&out);
    for sub in ["serve", "worker", "migrate", "openapi", "admin"] {
        assert!(stdout(&out).contains(sub), "--help lacks {sub}: {}", stdout(&out));
    }
    let out = wabahub(dir.path(), &["admin", "--help"], &[]);
    assert_success(&out);
    for sub in ["create-platform-admin", "rotate-keys"] {
        assert!(stdout(&out).contains(sub), "admin --help lacks {sub}: {}", stdout(&out));
    }
    assert_failure(&wabahub(dir.path(), &["no-such-command"], &[]), &["no-such-command"]);
}

#[test]
fn openapi_prints_the_spec() {
    let dir = tempfile::tempdir().unwrap();
    let out = wabahub(dir.path(), &["openapi"], &[]);
    assert_success(&out);
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).expect("openapi prints valid JSON");
    let expected: serde_json::Value = serde_json::from_str(&wabahub::openapi::spec_json()).unwrap();
    assert_eq!(printed, expected);
    assert_eq!(stdout(&out), wabahub::openapi::spec_json());
}

#[test]
fn migrate_creates_and_then_finds_nothing_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("nested/m.db");
    let url = format!("sqlite://{}", db.display());
    let migrations = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite")).unwrap().count();
    let out = wabahub(dir.path(), &["migrate"], &[("DATABASE_URL", &url)]);
    assert_success(&out);
    assert_eq!(stdout(&out).trim(), format!("applied {migrations} migrations"));
    assert!(db.exists(), "migrate did not create {}", db.display());
    // Development keys are generated into the data folder, not the working directory's `data/`.
    assert!(dir.path().join("data/jwt.secret").exists());
    let again = wabahub(dir.path(), &["migrate"], &[("DATABASE_URL", &url)]);
    assert_success(&again);
    assert_eq!(stdout(&again).trim(), "applied 0 migrations");
}

/// The CLI writes into the harness's fresh database (SQLite, or PostgreSQL with `TEST_DATABASE_URL`),
/// and the admin it made can log in to the running API.
#[actix_web::test]
async fn create_platform_admin_then_log_in() {
    let app = spawn_app().await;
    let dir = app.dir.path();
    let env = [("DATABASE_URL", app.database_url.as_str()), ("WABAHUB_ADMIN_PASSWORD", "cli-password-1")];
    let args = ["admin", "create-platform-admin", "--email", "Ops@Platform.test", "--name", "Ops"];
    let out = wabahub(dir, &args, &env);
    assert_success(&out);
    let said = stdout(&out).to_lowercase();
    assert!(said.starts_with("created platform admin ops@platform.test (user "), "{said}");
    assert!(!stdout(&out).contains("cli-password-1") && !stderr(&out).contains("cli-password-1"));

    let token = app.login("ops@platform.test", "cli-password-1").await;
    let tenants = app.get("/api/v1/admin/tenants", &token).await.expect(200);
    assert!(tenants["data"].as_array().unwrap().iter().any(|t| t["name"] == "Platform"), "{tenants}");

    assert_failure(&wabahub(dir, &args, &env), &["already exists"]);
    let short = [env[0], ("WABAHUB_ADMIN_PASSWORD", "short")];
    assert_failure(
        &wabahub(dir, &["admin", "create-platform-admin", "--email", "x@y.test"], &short),
        &["8 characters"],
    );
    let no_password = [env[0]];
    assert_failure(
        &wabahub(dir, &["admin", "create-platform-admin", "--email", "x@y.test"], &no_password),
        &["password"],
    );

    let out = wabahub(dir, &["admin", "rotate-keys"], &[env[0]]);
    assert_success(&out);
    assert!(stdout(&out).starts_with("re-encrypted "), "{}", stdout(&out));
}

#[test]
fn unknown_database_scheme_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mysql = [("DATABASE_URL", "mysql://root@127.0.0.1/wabahub")];
    for args in [&["migrate"][..], &["serve", "--bind", "127.0.0.1:0"], &["admin", "rotate-keys"]] {
        let out = wabahub(dir.path(), args, &mysql);
        assert_failure(&out, &["DATABASE_URL", "unsupported database URL scheme"]);
    }
    let out = wabahub(dir.path(), &["serve", "--bind", "127.0.0.1:0", "--database-url", "mysql://x/y"], &[]);
    assert_failure(&out, &["DATABASE_URL", "unsupported database URL scheme"]);
}

#[test]
fn production_refuses_to_start_without_keys() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/p.db", dir.path().display());
    let out = wabahub(dir.path(), &["migrate"], &[("WABAHUB_ENV", "production"), ("DATABASE_URL", &url)]);
    assert_failure(&out, &["FERNET_KEYS must be set"]);
    assert!(!dir.path().join("data").exists(), "production must not generate keys");
}

/// Every variable `src/config.rs` reads is documented in `.env.example`.
#[test]
fn every_setting_is_in_env_example() {
    let config = include_str!("../../src/config.rs");
    let example = include_str!("../../.env.example");
    let mut names = Vec::new();
    for call in ["var(\"", "parse_var(\"", "parse_bool(\""] {
        for (i, _) in config.match_indices(call) {
            let rest = &config[i + call.len()..];
            names.push(&rest[..rest.find('"').unwrap()]);
        }
    }
    assert!(names.len() > 15, "found too few settings in src/config.rs: {names:?}");
    for name in names {
        let documented = example.lines().any(|l| l.trim_start_matches(['#', ' ']).starts_with(&format!("{name}=")));
        assert!(documented, "{name} is read in src/config.rs but not documented in .env.example");
    }
}

#[actix_web::test]
async fn a_worker_process_sends_what_the_api_queued() {
    let app = spawn_app_with(|s| s.outbox_enabled = false).await;
    let t = app.signup("ann").await;
    let (account, _) = crate::messages::sandbox_account(&app, &t.token).await;
    crate::inbox::sandbox_inbound(&app, &t.token, account, "+919876543210").await;
    let body = serde_json::json!({"to": "+919876543210", "message": {"type": "text", "body": "from the worker"}});
    let id = app.post(&format!("/api/v1/accounts/{account}/send_message"), &t.token, body).await.expect(202)["id"]
        .as_i64()
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(app.get(&format!("/api/v1/messages/{id}"), &t.token).await.expect(200)["status"], "queued");
    let mut worker = Command::new(env!("CARGO_BIN_EXE_wabahub"))
        .arg("worker")
        .current_dir(app.dir.path())
        .env_clear()
        .env("RUST_LOG", "warn")
        .env("DATABASE_URL", &app.database_url)
        .env("WABAHUB_DATA_DIR", app.dir.path().join("worker"))
        .env("FERNET_KEYS", app.state.settings.fernet_keys.join(","))
        .env("HEALTH_CHECK_INTERVAL_SECS", "0")
        .env("TEMPLATE_SYNC_INTERVAL_SECS", "0")
        .spawn()
        .expect("start the worker");
    let m = crate::messages::settle(&app, &t.token, id).await;
    worker.kill().unwrap();
    worker.wait().unwrap();
    assert_eq!(m["status"], "sent", "{m}");
}

#[actix_web::test]
async fn logs_carry_no_query_strings_tokens_or_phone_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut server = Command::new(env!("CARGO_BIN_EXE_wabahub"))
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .current_dir(dir.path())
        .env_clear()
        .env("RUST_LOG", "info")
        .env("WABAHUB_DATA_DIR", dir.path().join("data"))
        .env("DATABASE_URL", format!("sqlite://{}/logs.db", dir.path().display()))
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    for _ in 0..200 {
        if client.get(format!("{base}/healthz")).send().await.is_ok() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    client
        .get(format!("{base}/api/v1/messages?recipient=%2B919876543210"))
        .bearer_auth("secret-token-xyz")
        .send()
        .await
        .unwrap();
    client.get(format!("{base}/webhooks/x?hub.verify_token=VERIFY-SECRET-42")).send().await.unwrap();
    client.get(format!("{base}/api/v1/users/+919876543210")).send().await.unwrap();
    server.kill().unwrap();
    let out = server.wait_with_output().unwrap();
    let logs = String::from_utf8_lossy(&out.stderr);
    assert!(logs.contains("/api/v1/messages"), "the request is logged by its route: {logs}");
    for secret in ["secret-token-xyz", "VERIFY-SECRET-42", "919876543210"] {
        assert!(!logs.contains(secret), "{secret} leaked into the logs: {logs}");
    }
}
