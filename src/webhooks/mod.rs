//! Inbound webhooks: bodies are stored by the routes (see [`ingest`], [`writer`]), then the [`Processor`]
//! applies every change of every entry, each on its own, recording what failed.

pub mod apply;
pub mod bot;
pub mod inbox;
pub mod ingest;
pub mod writer;

use std::time::Duration;

use serde_json::Value;

use crate::db::{DbConn, write_tx};
use crate::domain::TenantId;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::webhook_events::{self, WebhookEvent};

/// How often other processes' stored events are looked for when nothing wakes the processor.
const POLL: Duration = Duration::from_secs(1);
/// Events taken per round.
const BATCH: i64 = 100;

/// The background task that applies stored events; one per process.
pub struct Processor {
    state: AppState,
}

impl Processor {
    pub fn new(state: AppState) -> Self {
        Processor { state }
    }

    /// Runs forever: applies what is pending, then waits for a wake-up or the next poll.
    pub async fn run(self) {
        loop {
            let handled = match self.round().await {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(error = %e, "webhook processing round failed");
                    0
                }
            };
            if handled < BATCH as usize {
                let _ = tokio::time::timeout(POLL, self.state.webhook_wakeup.wait()).await;
            }
        }
    }

    /// Claims and applies up to `BATCH` waiting events, in one trip to the blocking pool; an
    /// event another process claimed first is skipped.
    async fn round(&self) -> Result<usize, ApiError> {
        self.state
            .db
            .run(|c| {
                let ids = webhook_events::pending(c, BATCH)?;
                for id in &ids {
                    if let Some(event) = webhook_events::claim(c, *id)? {
                        finish(c, &event)?;
                    }
                }
                Ok::<_, diesel::result::Error>(ids.len())
            })
            .await
    }
}

/// Claims one event and applies it now; does nothing when another process claimed it first.
pub async fn process(state: &AppState, id: i64) -> Result<(), ApiError> {
    state
        .db
        .run(move |c| match webhook_events::claim(c, id)? {
            Some(event) => finish(c, &event),
            None => Ok(()),
        })
        .await
}

/// Applies a tenant's event again now; `false` when the tenant has no such event.
pub async fn reprocess(state: &AppState, tenant: TenantId, id: i64) -> Result<bool, ApiError> {
    state
        .db
        .run(move |c| match webhook_events::reclaim(c, tenant, id)? {
            Some(event) => finish(c, &event).map(|_| true),
            None => Ok(false),
        })
        .await
}

/// Applies a claimed event and records the outcome.
fn finish(conn: &mut DbConn, event: &WebhookEvent) -> Result<(), diesel::result::Error> {
    let errors = apply_event(conn, event);
    let error = (!errors.is_empty()).then(|| errors.join("; "));
    webhook_events::finish(conn, event.id, error.as_deref())
}

/// Applies every change of every entry, each in its own transaction; returns the failures.
fn apply_event(conn: &mut DbConn, event: &WebhookEvent) -> Vec<String> {
    let (Some(tenant), Some(account)) = (event.tenant_id, event.account_id) else {
        return vec!["the event names no account".into()];
    };
    let body: Value = match serde_json::from_str(&event.payload) {
        Ok(v) => v,
        Err(e) => return vec![format!("payload: {e}")],
    };
    let target = apply::Target { tenant, account };
    let mut errors = Vec::new();
    for (e, entry) in ingest::entries(&body).iter().enumerate() {
        for (i, change) in ingest::changes(entry).iter().enumerate() {
            for (n, it) in apply::items(change).iter().enumerate() {
                if let Err(err) = write_tx(conn, |c| apply::item(c, &target, change, it)) {
                    errors.push(format!("entry[{e}].changes[{i}] item {n}: {err}"));
                }
            }
        }
    }
    errors
}
