//! The relay worker: claims due deliveries, POSTs each signed through the guarded client of
//! [`crate::outbound`] (10 s timeout, no redirects, public addresses only), logs
//! the attempt, and marks it delivered (2xx), retried with backoff, or failed past the window.

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::Method;
use tokio::sync::Semaphore;

use crate::db::{now, write_tx};
use crate::outbound::{Client, SendError};
use crate::outbox::backoff;
use crate::state::AppState;
use crate::store::webhook_endpoints::{self as store, AttemptResult, Delivery, Endpoint};

/// Per-attempt timeout.
const TIMEOUT: Duration = Duration::from_secs(10);
/// Claimed deliveries are due again after this long if their process died mid-send.
const LEASE_SECS: i64 = 60;
/// Most deliveries in flight per process.
const CONCURRENCY: usize = 32;
/// Idle time between polls when nothing is due.
const POLL: Duration = Duration::from_millis(200);
/// The longest wait between two retries.
const MAX_DELAY: Duration = Duration::from_secs(3600);

/// Runs forever; errors are logged and the loop carries on.
pub async fn run(state: AppState) {
    let client = Client::new(TIMEOUT, state.settings.allow_private_urls);
    let slots = Arc::new(Semaphore::new(CONCURRENCY));
    loop {
        let free = slots.available_permits() as i64;
        let claimed = if free == 0 {
            Ok(Vec::new())
        } else {
            state.db.run(move |c| store::claim(c, chrono::Duration::seconds(LEASE_SECS), free)).await
        };
        let claimed = claimed.unwrap_or_else(|e| {
            tracing::error!(error = ?e, "claiming webhook deliveries failed");
            Vec::new()
        });
        if claimed.is_empty() {
            tokio::time::sleep(POLL).await;
            continue;
        }
        let ids: Vec<i64> = claimed.iter().map(|d| d.endpoint_id).collect();
        let endpoints = match state.db.run(move |c| store::endpoints_by_id(c, &ids)).await {
            Ok(e) => e,
            Err(e) => {
                tracing::error!(error = ?e, "loading webhook endpoints failed");
                tokio::time::sleep(POLL).await;
                continue;
            }
        };
        for d in claimed {
            let Some(endpoint) = endpoints.iter().find(|e| e.id == d.endpoint_id).cloned() else { continue };
            let Ok(permit) = slots.clone().acquire_owned().await else { return };
            let (state, client) = (state.clone(), client.clone());
            tokio::spawn(async move {
                let result = attempt(&state, &client, &endpoint, &d).await;
                if let Err(e) = state.db.run(move |c| write_tx(c, |c| store::record(c, &result))).await {
                    tracing::error!(error = ?e, delivery = d.id, "recording a webhook attempt failed");
                }
                drop(permit);
            });
        }
    }
}

/// Sends one delivery and decides what comes next.
async fn attempt(state: &AppState, client: &Client, endpoint: &Endpoint, d: &Delivery) -> AttemptResult {
    let started = Instant::now();
    let at = now();
    let (code, error, retry_after) = send(state, client, endpoint, d).await;
    let duration_ms = started.elapsed().as_millis() as i64;
    let delivered = code.is_some_and(|c| (200..300).contains(&c));
    let settings = &state.settings;
    let delay = backoff::delay(d.attempts, retry_after, Duration::from_millis(settings.relay_retry_base_ms), MAX_DELAY);
    let next = now() + chrono::Duration::from_std(delay).unwrap_or_default();
    let deadline = d.retry_from + chrono::Duration::seconds(settings.relay_retry_window_secs as i64);
    let status = match () {
        _ if delivered => "delivered",
        _ if next > deadline => "failed",
        _ => "pending",
    };
    if status == "failed" {
        tracing::warn!(delivery = d.id, endpoint = endpoint.id, attempts = d.attempts, "webhook delivery gave up");
    }
    AttemptResult { delivery_id: d.id, at, status_code: code, error, duration_ms, status, next_attempt_at: next }
}

/// POSTs the payload; returns the status code, an error text unless 2xx, and any `Retry-After`.
async fn send(
    state: &AppState,
    client: &Client,
    endpoint: &Endpoint,
    d: &Delivery,
) -> (Option<i32>, Option<String>, Option<Duration>) {
    if let Err(code) = super::check_scheme(&endpoint.url, state.settings.allow_private_urls) {
        return (None, Some(format!("refused before sending: {code}")), None);
    }
    let Ok(secret) = state.vault.decrypt(&endpoint.secret_enc) else {
        return (None, Some("the endpoint secret cannot be decrypted".into()), None);
    };
    let t = chrono::Utc::now().timestamp();
    let res = client
        .send(Method::POST, &endpoint.url, |r| {
            r.header(reqwest::header::CONTENT_TYPE, "application/json")
                .header("X-Wabahub-Event-Id", &d.event_id)
                .header("X-Wabahub-Event-Type", &d.event_type)
                .header("X-Wabahub-Signature", super::signature(&secret, t, &d.payload))
                .body(d.payload.clone())
        })
        .await;
    match res {
        Ok(r) if r.status().is_success() => (Some(r.status().as_u16() as i32), None, None),
        Ok(r) => {
            let retry_after = r
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok())
                .map(|s| Duration::from_secs(s.min(MAX_DELAY.as_secs())));
            let code = r.status().as_u16();
            (Some(code as i32), Some(format!("the endpoint answered {code}")), retry_after)
        }
        Err(SendError::Blocked(_)) => (None, Some("refused before sending: url_not_allowed".into()), None),
        Err(SendError::Failed { timeout: true, .. }) => {
            (None, Some(format!("no answer within {} s", TIMEOUT.as_secs())), None)
        }
        Err(SendError::Failed { connect: true, .. }) => (None, Some("could not connect".into()), None),
        Err(SendError::Failed { .. }) => (None, Some("the request failed".into()), None),
    }
}
