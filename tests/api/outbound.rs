//! The URLs the server connects to: an account's Tata base URL must be the platform's or on its
//! allow-list (refused at setup, create and PATCH; refused at send time when an older row breaks
//! the rule), and every outbound request (provider APIs, media, brochures, relay endpoints) is
//! refused when its host is or resolves to an internal address, unless `allow_private_urls`.

use std::time::Duration;

use serde_json::{Value, json};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::helpers::*;
use crate::inbox::{drained, inbound_body, webhook_path};
use crate::setup::full_meta_setup;

const PLATFORM_TATA: &str = "https://wb.omni.tatatelebusiness.com";
const ALLOWED_TATA: &str = "https://tata-eu.example.com/omni";
/// On the allow-list, but an internal (NAT64 of 169.254.169.254) address.
const ALLOWED_INTERNAL: &str = "http://[64:ff9b::a9fe:a9fe]:8080";

/// Tenant-chosen URLs that must be refused, with the field code each gets.
const BAD_URLS: [(&str, &str); 7] = [
    ("http://127.0.0.1:8080/", "not_in_allow_list"),
    ("http://169.254.169.254", "not_in_allow_list"),
    ("http://10.0.0.1", "not_in_allow_list"),
    ("file:///etc/passwd", "invalid_url"),
    ("gopher://x", "invalid_url"),
    ("http://[64:ff9b::a9fe:a9fe]/", "not_in_allow_list"),
    ("http://[64:ff9b::a9fe:a9fe]:8080/", "url_not_allowed"),
];

/// An app with the platform's real Tata URL, one public and one internal allow-listed URL, and
/// the public-address guard on.
async fn guarded_app() -> TestApp {
    spawn_app_with(|s| {
        s.allow_private_urls = false;
        s.tata_base_url = PLATFORM_TATA.into();
        s.tata_allowed_base_urls = vec![ALLOWED_TATA.into(), ALLOWED_INTERNAL.into()];
    })
    .await
}

fn tata_setup(base_url: Option<&str>) -> Value {
    let mut body = json!({"name": "Tata", "provider": "tata", "phone_number": {"phone_number": "+919876543210"},
        "access_tokens": {"tata_auth_token": "tata.jwt.token"}, "business_profile": {"name": "T"},
        "webhook": {"verify_token": "tata-verify-token"}});
    if let Some(url) = base_url {
        body["access_tokens"]["tata_base_url"] = json!(url);
    }
    body
}

#[actix_web::test]
async fn tata_base_urls_off_the_allow_list_are_refused_and_change_nothing() {
    let app = guarded_app().await;
    let t = app.signup("tata-owner").await;
    for (url, code) in BAD_URLS {
        let e =
            app.post("/api/v1/accounts/setup", &t.token, tata_setup(Some(url))).await.problem(422, "validation_failed");
        assert_eq!(e["errors"]["access_tokens.tata_base_url"], json!([code]), "{url}: {e}");
        let create = json!({"name": "T", "provider": "tata", "tata_base_url": url});
        let e = app.post("/api/v1/accounts", &t.token, create).await.problem(422, "validation_failed");
        assert_eq!(e["errors"]["tata_base_url"], json!([code]), "{url}: {e}");
    }
    assert_eq!(app.get("/api/v1/accounts", &t.token).await.expect(200)["data"], json!([]), "nothing was created");

    let created = app.post("/api/v1/accounts/setup", &t.token, tata_setup(Some(ALLOWED_TATA))).await.expect(201);
    assert_eq!(created["account"]["tata_base_url"], ALLOWED_TATA);
    let id = created["account"]["id"].as_i64().unwrap();
    let account_url = format!("/api/v1/accounts/{id}");
    let before = app.get(&account_url, &t.token).await.expect(200);
    for (url, code) in BAD_URLS {
        let e =
            app.patch(&account_url, &t.token, json!({"tata_base_url": url})).await.problem(422, "validation_failed");
        assert_eq!(e["errors"]["tata_base_url"], json!([code]), "{url}: {e}");
        let step = format!("/api/v1/accounts/{id}/setup/access_tokens");
        let e = app.put(&step, &t.token, json!({"tata_base_url": url})).await.problem(422, "validation_failed");
        assert_eq!(e["errors"]["tata_base_url"], json!([code]), "{url}: {e}");
    }
    assert_eq!(app.get(&account_url, &t.token).await.expect(200), before, "nothing changed");

    for ok in [PLATFORM_TATA, "https://tata-eu.example.com/omni/"] {
        let changed = app.patch(&account_url, &t.token, json!({"tata_base_url": ok})).await.expect(200);
        assert_eq!(changed["tata_base_url"], ok);
    }
}

/// Another app on `app`'s database with its keys, as after a restart with `adjust`ed settings.
async fn restarted(app: &TestApp, adjust: impl FnOnce(&mut wabahub::config::Settings)) -> TestApp {
    let settings = app.state.settings.clone();
    spawn_app_with(|s| {
        s.database_url = settings.database_url.clone();
        s.fernet_keys = settings.fernet_keys.clone();
        s.jwt_secret = settings.jwt_secret.clone();
        adjust(s);
    })
    .await
}

/// A Tata inbound message from `from`, sent now, so the account's service window is open.
async fn tata_inbound(app: &TestApp, token: &str, account: i64, from: &str) {
    let digits = from.trim_start_matches('+');
    let at = chrono::Utc::now().timestamp().to_string();
    let m = json!([{"from": digits, "id": format!("wamid.IN.{digits}"), "timestamp": at, "type": "text", "text": {"body": "hi"}}]);
    let path = webhook_path(app, token, account).await;
    let url = app.url(&format!("{path}?token=tata-verify-token"));
    let res = app.client.post(url).json(&inbound_body(m, json!([]))).send().await.unwrap();
    TestApp::read(res).await.expect(200);
    drained(app, token).await;
}

#[actix_web::test]
async fn a_tata_url_saved_under_another_allow_list_is_refused_when_used() {
    let fake = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"messageId": "tata-1"})))
        .mount(&fake)
        .await;
    let old_url = fake.uri();
    let allowed = old_url.clone();
    let before = spawn_app_with(|s| {
        s.tata_allowed_base_urls = vec![allowed];
        s.outbox_enabled = false;
    })
    .await;
    let t = before.signup("tata-sender").await;
    let created = before.post("/api/v1/accounts/setup", &t.token, tata_setup(Some(&old_url))).await.expect(201);
    let account = created["account"]["id"].as_i64().unwrap();

    // The same database under a platform that no longer allows that URL.
    let after = restarted(&before, |_| {}).await;
    let sync = format!("/api/v1/accounts/{account}/templates/sync");
    let p = after.post(&sync, &t.token, json!({})).await.problem(409, "ERR_PROVIDER_URL_NOT_ALLOWED");
    assert!(p["detail"].as_str().unwrap().contains("tata_base_url"), "{p}");

    tata_inbound(&after, &t.token, account, "+919876543210").await;
    let send = format!("/api/v1/accounts/{account}/send_message?wait=true");
    let body = json!({"to": "+919876543210", "message": {"type": "text", "body": "hello"}});
    let m = after.post(&send, &t.token, body).await.expect(201);
    assert_eq!(m["status"], "failed", "{m}");
    assert_eq!(m["error"]["title"], "ERR_PROVIDER_URL_NOT_ALLOWED", "{m}");
    assert!(m["error"]["detail"].as_str().unwrap().contains("not_in_allow_list"), "{m}");

    let health = after.post(&format!("/api/v1/accounts/{account}/health-check"), &t.token, json!({})).await.expect(200);
    assert_eq!(health["status"], "unhealthy", "{health}");
    assert!(fake.received_requests().await.unwrap().is_empty(), "the old URL was never called");
    after
        .patch(&format!("/api/v1/accounts/{account}"), &t.token, json!({"tata_base_url": old_url}))
        .await
        .problem(422, "validation_failed");
}

#[actix_web::test]
async fn platform_provider_urls_on_internal_addresses_are_refused_unless_allowed() {
    let fake = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": []})))
        .mount(&fake)
        .await;
    let port = fake.address().port();
    for graph in [fake.uri(), format!("http://localhost:{port}")] {
        let url = graph.clone();
        let app = spawn_app_with(|s| {
            s.allow_private_urls = false;
            s.meta_graph_url = url;
        })
        .await;
        let t = app.signup("meta-owner").await;
        let setup = full_meta_setup("Meta", "+14155550100", "1065");
        let account =
            app.post("/api/v1/accounts/setup", &t.token, setup).await.expect(201)["account"]["id"].as_i64().unwrap();
        let sync = format!("/api/v1/accounts/{account}/templates/sync");
        app.post(&sync, &t.token, json!({})).await.problem(409, "ERR_PROVIDER_URL_NOT_ALLOWED");
    }
    assert!(fake.received_requests().await.unwrap().is_empty(), "nothing reached the internal address");

    let url = fake.uri();
    let dev = spawn_app_with(|s| s.meta_graph_url = url).await;
    let t = dev.signup("meta-dev").await;
    let setup = full_meta_setup("Meta", "+14155550100", "1065");
    let account =
        dev.post("/api/v1/accounts/setup", &t.token, setup).await.expect(201)["account"]["id"].as_i64().unwrap();
    dev.post(&format!("/api/v1/accounts/{account}/templates/sync"), &t.token, json!({})).await.expect(200);
    assert_eq!(fake.received_requests().await.unwrap().len(), 1, "allowed for development");
}

/// A receiver on 127.0.0.1 that answers 200 to anything.
async fn local_server() -> MockServer {
    let fake = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("content-type", "application/pdf")
                .insert_header("content-length", "10"),
        )
        .mount(&fake)
        .await;
    fake
}

#[actix_web::test]
async fn media_and_brochure_names_that_resolve_to_internal_addresses_are_refused() {
    let fake = local_server().await;
    let port = fake.address().port();
    let app = spawn_app_with(|s| s.allow_private_urls = false).await;
    let t = app.signup("media-owner").await;
    for host in ["localhost", "127.0.0.1", "[::ffff:127.0.0.1]", "[64:ff9b::7f00:1]", "[fd00::1]", "[2002:7f00:1::1]"] {
        let link = format!("http://{host}:{port}/brochure.pdf");
        let body = json!({"name": "P", "brochure_url": link});
        let e = app.post("/api/v1/projects", &t.token, body).await.problem(422, "validation_failed");
        assert_eq!(e["errors"]["brochure_url"], json!(["media_url_not_allowed"]), "{link}: {e}");
    }
    assert!(fake.received_requests().await.unwrap().is_empty(), "no HEAD reached the internal address");
    assert_eq!(app.get("/api/v1/projects", &t.token).await.expect(200)["data"], json!([]));
}

#[actix_web::test]
async fn relay_endpoints_on_internal_names_are_refused_at_creation_and_delivery() {
    let fake = local_server().await;
    let port = fake.address().port();
    let guarded = spawn_app_with(|s| s.allow_private_urls = false).await;
    let t = guarded.signup("relay-owner").await;
    for url in
        ["https://localhost/in", "https://[64:ff9b::a9fe:a9fe]/in", "https://[fe80::1]/in", "https://[::127.0.0.1]/in"]
    {
        let body = json!({"url": url, "event_types": ["message.status"]});
        let e = guarded.post("/api/v1/webhook-endpoints", &t.token, body).await.problem(422, "validation_failed");
        assert_eq!(e["errors"]["url"], json!(["url_not_allowed"]), "{url}: {e}");
    }

    // Saved while private URLs were allowed, then delivered by a platform that refuses them.
    let open = spawn_app_with(|s| s.relay_enabled = false).await;
    let owner = open.signup("relay-dev").await;
    let url = format!("https://localhost:{port}/in");
    let body = json!({"url": url, "event_types": ["message.status"]});
    let id = open.post("/api/v1/webhook-endpoints", &owner.token, body).await.expect(201)["id"].as_i64().unwrap();
    let strict = restarted(&open, |s| s.allow_private_urls = false).await;
    strict.post(&format!("/api/v1/webhook-endpoints/{id}/test"), &owner.token, json!({})).await.expect(202);
    let deliveries = format!("/api/v1/webhook-endpoints/{id}/deliveries");
    let mut delivery = Value::Null;
    for _ in 0..100 {
        delivery = strict.get(&deliveries, &owner.token).await.expect(200)["data"][0].clone();
        if delivery["attempt_log"].as_array().is_some_and(|a| !a.is_empty()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(delivery["attempt_log"][0]["error"], "refused before sending: url_not_allowed", "{delivery}");
    assert_eq!(delivery["last_error"], "refused before sending: url_not_allowed", "{delivery}");
    assert!(fake.received_requests().await.unwrap().is_empty(), "the delivery never reached the internal address");
}

#[test]
fn provider_settings_are_checked_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let base = test_settings(dir.path(), format!("sqlite://{}/x.db", dir.path().display()));
    assert!(base.validate().is_ok(), "private test URLs pass while allowed");
    let strict = |adjust: &dyn Fn(&mut wabahub::config::Settings)| {
        let mut s = test_settings(dir.path(), base.database_url.clone());
        s.allow_private_urls = false;
        s.meta_graph_url = "https://graph.facebook.com".into();
        s.tata_base_url = PLATFORM_TATA.into();
        adjust(&mut s);
        s.validate().map_err(|e| format!("{e:#}"))
    };
    assert_eq!(strict(&|_| {}), Ok(()));
    let e = strict(&|s| s.meta_graph_url = "http://127.0.0.1:9".into()).unwrap_err();
    assert!(e.contains("META_GRAPH_URL"), "{e}");
    let e = strict(&|s| s.tata_base_url = "file:///etc/passwd".into()).unwrap_err();
    assert!(e.contains("TATA_BASE_URL"), "{e}");
    let e = strict(&|s| s.tata_allowed_base_urls = vec!["http://[fd00::1]/".into()]).unwrap_err();
    assert!(e.contains("TATA_ALLOWED_BASE_URLS"), "{e}");
    assert_eq!(strict(&|s| s.tata_allowed_base_urls = vec![ALLOWED_TATA.into()]), Ok(()));
}
