//! The HTTP plumbing shared by the Meta and Tata clients: the guarded client of
//! [`crate::outbound`] with the provider timeout, and the reading of a reply into JSON or a
//! [`ProviderError`] built from a Graph error object.

use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{Method, RequestBuilder};
use serde_json::Value;

use super::codes::classify;
use super::error::{ProviderError, ProviderErrorKind};
use super::settings::ProviderConfig;
use crate::outbound::Client;

/// The guarded client with the provider timeout: public addresses only unless
/// `ALLOW_PRIVATE_URLS`, and no redirects are followed with our token.
pub fn client(cfg: &ProviderConfig) -> Client {
    Client::new(cfg.timeout, cfg.allow_private_urls)
}

/// Sends a request; a 2xx reply is returned as JSON (`Null` when empty), anything else as an error.
pub async fn call(
    http: &Client,
    method: Method,
    url: &str,
    build: impl FnOnce(RequestBuilder) -> RequestBuilder,
) -> Result<Value, ProviderError> {
    read(http.send(method, url, build).await.map_err(ProviderError::from_send)?).await
}

/// Reads a reply: JSON on 2xx, else the error it describes.
pub async fn read(response: reqwest::Response) -> Result<Value, ProviderError> {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.text().await.map_err(|e| ProviderError::transport(&e))?;
    let json: Option<Value> = serde_json::from_str(&body).ok();
    if (200..300).contains(&status) {
        return Ok(json.unwrap_or(Value::Null));
    }
    Err(error_from_reply(status, &headers, json.as_ref()))
}

/// Builds the error for a non-2xx reply from its Graph `error` object, or from the status alone.
pub fn error_from_reply(status: u16, headers: &HeaderMap, body: Option<&Value>) -> ProviderError {
    let graph = body.and_then(|b| b.get("error")).filter(|e| e.is_object());
    let mut err = match graph {
        Some(e) => from_graph_error(e),
        None if status == 429 => ProviderError::new(ProviderErrorKind::RateLimited, "provider rate limit"),
        None if status >= 500 => ProviderError::new(ProviderErrorKind::Transient, "provider unavailable"),
        None if status == 401 || status == 403 => {
            ProviderError::new(ProviderErrorKind::AuthFailed, "provider refused the credentials")
        }
        None => ProviderError::new(ProviderErrorKind::Permanent, format!("provider answered HTTP {status}")),
    };
    err.http_status = Some(status);
    if let Some(wait) = header_wait(headers) {
        err.retry_after = Some(wait);
    }
    err
}

/// Reads `{code, message, error_data.details, is_transient}` of a Graph error object.
fn from_graph_error(e: &Value) -> ProviderError {
    let code = e.get("code").and_then(Value::as_i64);
    let transient = e.get("is_transient").and_then(Value::as_bool).unwrap_or(false);
    let (kind, retry_after) = code.map_or((ProviderErrorKind::Permanent, None), |c| classify(c, transient));
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
    ProviderError {
        kind,
        code,
        message: text(e.get("message")).unwrap_or_else(|| "provider error".into()),
        details: text(e.pointer("/error_data/details")).or_else(|| text(e.get("error_user_msg"))),
        retry_after,
        http_status: None,
        maybe_delivered: false,
        local: None,
    }
}

/// The longest wait named by `Retry-After` (seconds) or `x-business-use-case-usage`
/// (`estimated_time_to_regain_access`, minutes).
fn header_wait(headers: &HeaderMap) -> Option<Duration> {
    let retry_after = headers.get(RETRY_AFTER).and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok());
    let usage = headers
        .get("x-business-use-case-usage")
        .and_then(|v| serde_json::from_slice::<Value>(v.as_bytes()).ok())
        .and_then(|v| regain_minutes(&v))
        .map(|minutes| minutes * 60);
    retry_after.max(usage).filter(|s| *s > 0).map(Duration::from_secs)
}

/// The largest `estimated_time_to_regain_access` anywhere in the usage header.
fn regain_minutes(v: &Value) -> Option<u64> {
    match v {
        Value::Object(map) => {
            let own = map.get("estimated_time_to_regain_access").and_then(Value::as_u64);
            map.values().filter_map(regain_minutes).chain(own).max()
        }
        Value::Array(items) => items.iter().filter_map(regain_minutes).max(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;
    use serde_json::json;

    #[test]
    fn reads_both_wait_headers_and_keeps_the_longest() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, HeaderValue::from_static("30"));
        let usage = r#"{"102290129340398":[{"type":"whatsapp","call_count":100,"estimated_time_to_regain_access":2}]}"#;
        h.insert("x-business-use-case-usage", HeaderValue::from_static(usage));
        let err = error_from_reply(400, &h, Some(&json!({"error": {"code": 80007, "message": "limit"}})));
        assert_eq!(err.retry_after, Some(Duration::from_secs(120)));
        assert_eq!(err.kind, ProviderErrorKind::RateLimited);
    }

    #[test]
    fn bodiless_replies_are_classified_by_status() {
        let none = HeaderMap::new();
        assert_eq!(error_from_reply(502, &none, None).kind, ProviderErrorKind::Transient);
        assert_eq!(error_from_reply(429, &none, None).kind, ProviderErrorKind::RateLimited);
        assert_eq!(error_from_reply(401, &none, None).kind, ProviderErrorKind::AuthFailed);
        assert_eq!(error_from_reply(404, &none, Some(&json!({"x": 1}))).kind, ProviderErrorKind::Permanent);
    }

    #[test]
    fn code_wins_over_http_status() {
        let body = json!({"error": {"code": 131026, "message": "undeliverable", "error_data": {"details": "d"}}});
        let err = error_from_reply(500, &HeaderMap::new(), Some(&body));
        assert_eq!(
            (err.kind, err.code, err.details.as_deref()),
            (ProviderErrorKind::InvalidRecipient, Some(131026), Some("d"))
        );
    }
}
