//! Every sender error code of the reference's §2 table, answered by a fake Graph API, maps to
//! the kind and retryability its "Client action" and "Retry" columns call for.

use std::time::Duration;

use serde_json::json;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::providers::Provider;
use crate::providers::ProviderErrorKind::{self, *};
use crate::providers::testkit::*;

/// (code, HTTP status Meta answers with, expected kind, retryable).
const TABLE: &[(i64, u16, ProviderErrorKind, bool)] = &[
    (0, 401, AuthFailed, false),
    (190, 401, AuthFailed, false),
    (3, 500, AuthFailed, false),
    (10, 403, AuthFailed, false),
    (200, 403, AuthFailed, false),
    (250, 403, AuthFailed, false),
    (299, 403, AuthFailed, false),
    (4, 429, RateLimited, true),
    (80007, 400, RateLimited, true),
    (130429, 400, RateLimited, true),
    (131048, 400, QualityDegraded, false),
    (131056, 400, RateLimited, true),
    (131064, 400, PolicyViolation, false),
    (133016, 400, RateLimited, true),
    (368, 403, PolicyViolation, false),
    (131031, 403, PolicyViolation, false),
    (130497, 403, PolicyViolation, false),
    (1, 400, Transient, true),
    (2, 503, Transient, true),
    (33, 400, Permanent, false),
    (100, 400, Permanent, false),
    (130403, 400, InvalidRecipient, false),
    (130472, 400, InvalidRecipient, false),
    (131000, 500, Transient, true),
    (131005, 403, AuthFailed, false),
    (131008, 400, Permanent, false),
    (131009, 400, Permanent, false),
    (131016, 500, Transient, true),
    (131021, 400, InvalidRecipient, false),
    (131026, 400, InvalidRecipient, false),
    (131037, 400, Permanent, false),
    (131042, 400, Permanent, false),
    (131045, 500, Permanent, false),
    (131047, 400, Permanent, false),
    (131049, 400, RateLimited, true),
    (131050, 400, InvalidRecipient, false),
    (131051, 400, Permanent, false),
    (131052, 400, MediaUnsupported, false),
    (131053, 400, MediaUnsupported, false),
    (131057, 500, Transient, true),
    (131063, 400, Permanent, false),
    (132000, 400, TemplateNotReady, false),
    (132001, 404, TemplateNotReady, false),
    (132005, 400, Permanent, false),
    (132007, 400, PolicyViolation, false),
    (132012, 400, Permanent, false),
    (132015, 400, TemplateNotReady, false),
    (132016, 400, TemplateNotReady, false),
    (132068, 400, PolicyViolation, false),
    (132069, 400, RateLimited, true),
    (133000, 500, Permanent, false),
    (133004, 503, Transient, true),
    (133005, 400, Permanent, false),
    (133006, 400, Permanent, false),
    (133008, 400, RateLimited, true),
    (133009, 400, RateLimited, true),
    (133010, 400, Permanent, false),
    (133015, 400, Transient, true),
    (135000, 400, Permanent, false),
    (2388019, 400, Permanent, false),
    (2388040, 400, Permanent, false),
    (2388047, 400, Permanent, false),
    (2388072, 400, Permanent, false),
    (2388073, 400, Permanent, false),
    (2388293, 400, Permanent, false),
    (2388299, 400, Permanent, false),
];

#[tokio::test]
async fn every_documented_code_maps_to_its_kind() {
    let server = MockServer::start().await;
    let provider = meta(&server);
    for &(code, status, kind, retryable) in TABLE {
        server.reset().await;
        let message = format!("(#{code}) documented error");
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(status).set_body_json(graph_error(code, &message)))
            .expect(1)
            .mount(&server)
            .await;
        let err = provider.send_message(&text_message()).await.unwrap_err();
        assert_eq!(err.kind, kind, "code {code}");
        assert_eq!(err.is_retryable(), retryable, "code {code}");
        assert_eq!((err.code, err.message.as_str()), (Some(code), message.as_str()), "code {code}");
        assert_eq!(err.details, Some(format!("details of {code}")), "code {code}");
        assert_eq!(err.http_status, Some(status), "code {code}");
    }
}

#[tokio::test]
async fn the_seed_names_follow_the_kind() {
    let cases = [
        (132001, "ERR_TEMPLATE_NOT_READY"),
        (131053, "ERR_MEDIA_UNSUPPORTED"),
        (130429, "ERR_WHATSAPP_RATE_LIMIT"),
        (131048, "ERR_QUALITY_DEGRADED"),
    ];
    for (code, seed) in cases {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(400).set_body_json(graph_error(code, "x")))
            .mount(&server)
            .await;
        assert_eq!(meta(&server).send_message(&text_message()).await.unwrap_err().seed_code(), seed);
    }
}

#[tokio::test]
async fn retry_after_comes_from_the_headers() {
    let server = MockServer::start().await;
    let usage = json!({WABA: [{"type": "whatsapp", "call_count": 100, "estimated_time_to_regain_access": 3}]});
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("x-business-use-case-usage", usage.to_string().as_str())
                .set_body_json(json!({"error": {"code": 4, "message": "(#4) Application request limit reached", "is_transient": true}})),
        )
        .mount(&server)
        .await;
    let err = meta(&server).send_message(&text_message()).await.unwrap_err();
    assert_eq!((err.kind, err.retry_after), (RateLimited, Some(Duration::from_secs(180))));
}

#[tokio::test]
async fn bodiless_5xx_and_refused_connections_are_transient() {
    let server = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(502)).mount(&server).await;
    let err = meta(&server).send_message(&text_message()).await.unwrap_err();
    assert_eq!((err.kind, err.code, err.http_status), (Transient, None, Some(502)));

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let cfg = crate::providers::ProviderConfig {
        meta_graph_url: format!("http://{}", closed.local_addr().unwrap()),
        allow_private_urls: true,
        ..Default::default()
    };
    drop(closed);
    let provider = crate::providers::meta::MetaProvider::new(meta_creds(), &cfg);
    let err = provider.send_message(&text_message()).await.unwrap_err();
    assert_eq!(
        (err.kind, err.http_status, err.message.as_str()),
        (Transient, None, "provider request could not connect")
    );
}

#[tokio::test]
async fn an_internal_graph_url_is_refused_without_a_request() {
    let server = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(200)).expect(0).mount(&server).await;
    let port = server.address().port();
    for graph in [server.uri(), format!("http://localhost:{port}")] {
        let cfg = crate::providers::ProviderConfig { meta_graph_url: graph.clone(), ..Default::default() };
        let provider = crate::providers::meta::MetaProvider::new(meta_creds(), &cfg);
        let err = provider.send_message(&text_message()).await.unwrap_err();
        assert_eq!((err.kind, err.maybe_delivered), (UrlNotAllowed, false), "{graph}: {err:?}");
    }
}
