//! Embedded Signup helpers (reference §8): exchange the 30-second code from `FB.login` for the
//! business token, then subscribe our app to the customer's WABA.

use reqwest::Method;
use serde_json::Value;

use super::{MetaProvider, expect_success, versioned_base};
use crate::providers::error::{ProviderError, ProviderErrorKind};
use crate::providers::http::{call, client};
use crate::providers::settings::ProviderConfig;

/// `GET /{ver}/oauth/access_token?client_id&client_secret&code` → the business token.
pub async fn exchange_code(
    cfg: &ProviderConfig,
    app_id: &str,
    app_secret: &str,
    code: &str,
) -> Result<String, ProviderError> {
    let url = format!("{}/oauth/access_token", versioned_base(cfg));
    let query = [("client_id", app_id), ("client_secret", app_secret), ("code", code)];
    let reply = call(&client(cfg), Method::GET, &url, |r| r.query(&query)).await?;
    reply["access_token"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| ProviderError::new(ProviderErrorKind::AuthFailed, "the code exchange returned no access token"))
}

impl MetaProvider {
    /// `POST /{waba-id}/subscribed_apps` with the account's token, so its webhooks reach us.
    pub async fn subscribe_app(&self) -> Result<(), ProviderError> {
        let reply: Value = self.post_empty(&format!("{}/subscribed_apps", self.waba_id)).await?;
        expect_success(&reply, "subscribe app")
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use wiremock::matchers::{header, method, path, query_param};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    use super::*;
    use crate::providers::testkit::*;

    #[tokio::test]
    async fn exchanges_the_code_for_a_token() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/v23.0/oauth/access_token"))
            .and(query_param("client_id", "app-1"))
            .and(query_param("client_secret", "shh"))
            .and(query_param("code", "AQB-code"))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"access_token": "EAAB-business", "token_type": "bearer"})),
            )
            .expect(1)
            .mount(&server)
            .await;
        assert_eq!(exchange_code(&config(&server), "app-1", "shh", "AQB-code").await.unwrap(), "EAAB-business");
    }

    #[tokio::test]
    async fn an_expired_code_is_an_error() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/v23.0/oauth/access_token"))
            .respond_with(
                ResponseTemplate::new(400).set_body_json(graph_error(100, "This authorization code has expired.")),
            )
            .mount(&server)
            .await;
        let err = exchange_code(&config(&server), "app-1", "shh", "old").await.unwrap_err();
        assert_eq!(err.code, Some(100));
    }

    #[tokio::test]
    async fn subscribes_the_app_to_the_waba() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path(format!("/v23.0/{WABA}/subscribed_apps")))
            .and(header("authorization", AUTH))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({"success": true})))
            .expect(1)
            .mount(&server)
            .await;
        meta(&server).subscribe_app().await.unwrap();
    }
}
