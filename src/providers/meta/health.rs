//! Health on Meta: `GET /{phone-number-id}?fields=health_status` (reference §10), plus the
//! callback URL the WABA's app subscription overrides, from `GET /{waba-id}/subscribed_apps`.

use serde_json::{Value, json};

use super::MetaProvider;
use crate::providers::types::{HealthReport, HealthStatus};

impl MetaProvider {
    pub(super) async fn health_check_impl(&self) -> HealthReport {
        let health = match self.get(&self.phone_number_id, &[("fields", "health_status")]).await {
            Ok(reply) => reply,
            Err(e) => {
                return HealthReport {
                    status: HealthStatus::Unhealthy,
                    can_send_message: false,
                    details: json!({"code": e.code, "kind": e.seed_code()}),
                    error: Some(e.to_string()),
                    callback_url: None,
                };
            }
        };
        let details = health.get("health_status").cloned().unwrap_or(Value::Null);
        let status = match details["can_send_message"].as_str() {
            Some("AVAILABLE") => HealthStatus::Healthy,
            Some("LIMITED") => HealthStatus::Degraded,
            _ => HealthStatus::Unhealthy,
        };
        HealthReport {
            status,
            can_send_message: status != HealthStatus::Unhealthy,
            details,
            error: None,
            callback_url: self.callback_url().await,
        }
    }

    /// The first `override_callback_uri` among the WABA's subscribed apps, if any is readable.
    async fn callback_url(&self) -> Option<String> {
        let apps = self.get(&format!("{}/subscribed_apps", self.waba_id), &[]).await.ok()?;
        apps["data"].as_array()?.iter().find_map(|a| a["override_callback_uri"].as_str().map(str::to_string))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use wiremock::matchers::{header, method, path, query_param};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    use crate::providers::testkit::*;
    use crate::providers::{HealthStatus, Provider};

    async fn health(server: &MockServer, can_send: &str) {
        Mock::given(method("GET"))
            .and(path(format!("/v23.0/{PHONE_ID}")))
            .and(query_param("fields", "health_status"))
            .and(header("authorization", AUTH))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": PHONE_ID, "health_status": {
                "can_send_message": can_send, "entities": [{"entity_type": "PHONE_NUMBER", "id": PHONE_ID, "can_send_message": can_send}]}})))
            .mount(server)
            .await;
    }

    #[tokio::test]
    async fn available_is_healthy_and_reports_the_callback_url() {
        let server = MockServer::start().await;
        health(&server, "AVAILABLE").await;
        Mock::given(method("GET"))
            .and(path(format!("/v23.0/{WABA}/subscribed_apps")))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"data": [{
                "whatsapp_business_api_data": {"id": "1", "name": "app"}, "override_callback_uri": "https://hub.example.com/webhooks/meta"}]})))
            .mount(&server)
            .await;
        let report = meta(&server).health_check().await;
        assert_eq!((report.status, report.can_send_message), (HealthStatus::Healthy, true));
        assert_eq!(report.callback_url.as_deref(), Some("https://hub.example.com/webhooks/meta"));
        assert_eq!(report.details["entities"][0]["entity_type"], "PHONE_NUMBER");
    }

    #[tokio::test]
    async fn limited_is_degraded_and_blocked_is_unhealthy() {
        for (value, expected, can_send) in
            [("LIMITED", HealthStatus::Degraded, true), ("BLOCKED", HealthStatus::Unhealthy, false)]
        {
            let server = MockServer::start().await;
            health(&server, value).await;
            let report = meta(&server).health_check().await;
            assert_eq!((report.status, report.can_send_message, report.callback_url), (expected, can_send, None));
        }
    }

    #[tokio::test]
    async fn an_expired_token_is_unhealthy_with_the_error() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path(format!("/v23.0/{PHONE_ID}")))
            .respond_with(ResponseTemplate::new(401).set_body_json(graph_error(190, "Access token has expired")))
            .mount(&server)
            .await;
        let report = meta(&server).health_check().await;
        assert_eq!(report.status, HealthStatus::Unhealthy);
        assert!(report.error.unwrap().contains("ERR_AUTH_FAILED (190)"));
    }
}
