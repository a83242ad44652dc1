//! Inbound webhooks: bodies are stored by the routes (see [`ingest`], [`writer`]), then the [`Processor`]
//! applies every change of every entry, each on its own, recording what failed.

pub mod apply;
pub mod bot;
pub mod inbox;
pub mod ingest;
pub mod writer;

use std::time::{Duration, Instant};

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
/// Events taken per round while bodies are arriving: acknowledging them comes first, so a round
/// then holds the write lock only briefly and the next waits for the writer's next commit. Below
/// saturation (see [`writer::Writer::saturated`]) commits store at most 8 rows on average, so one
/// round of this many per commit keeps pace.
const BUSY_BATCH: i64 = 8;
/// The longest the processor waits for the writer's commit before its next round.
const YIELD: Duration = Duration::from_millis(10);
/// While the writer is saturated, the processor applies nothing (every round would hold the write
/// lock the next commit waits for); after this long without catching up it takes its short rounds
/// again, so a flood that outlasts it is applied as it goes, if more slowly.
const MAX_LAG: Duration = Duration::from_secs(10);

/// The background task that applies stored events; one per process.
pub struct Processor {
    state: AppState,
}

impl Processor {
    pub fn new(state: AppState) -> Self {
        Processor { state }
    }

    /// Runs forever: applies what is pending (in short rounds, each after the writer's next
    /// commit, while bodies are arriving; none while they arrive faster than the writer stores
    /// them, for up to `MAX_LAG`), then waits for a wake-up or the next poll.
    pub async fn run(self) {
        let writer = &self.state.webhook_writer;
        let mut caught_up = Instant::now();
        loop {
            if writer.saturated() && caught_up.elapsed() < MAX_LAG {
                let _ = tokio::time::timeout(YIELD, writer.committed()).await;
                continue;
            }
            let limit = if writer.busy() { BUSY_BATCH } else { BATCH };
            let handled = match self.round(limit).await {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(error = %e, "webhook processing round failed");
                    0
                }
            };
            if handled < limit as usize {
                caught_up = Instant::now();
                let _ = tokio::time::timeout(POLL, self.state.webhook_wakeup.wait()).await;
            } else if writer.busy() {
                let _ = tokio::time::timeout(YIELD, writer.committed()).await;
            }
        }
    }

    /// Claims and applies up to `limit` waiting events in one transaction (each change in its own
    /// savepoint), so a round takes the database's write lock once; events another process
    /// claimed first are skipped.
    async fn round(&self, limit: i64) -> Result<usize, ApiError> {
        self.state
            .db
            .run(move |c| {
                write_tx(c, |c| {
                    let events = webhook_events::claim_round(c, limit)?;
                    settle(c, &events, true)?;
                    Ok::<_, diesel::result::Error>(events.len())
                })
            })
            .await
    }
}

/// Claims one event and applies it now; does nothing when another process claimed it first.
pub async fn process(state: &AppState, id: i64) -> Result<(), ApiError> {
    state
        .db
        .run(move |c| {
            write_tx(c, |c| {
                let event = webhook_events::claim(c, id)?;
                settle(c, event.as_slice(), true)
            })
        })
        .await
}

/// Applies a tenant's event again now; `false` when the tenant has no such event.
pub async fn reprocess(state: &AppState, tenant: TenantId, id: i64) -> Result<bool, ApiError> {
    state
        .db
        .run(move |c| {
            write_tx(c, |c| {
                let event = webhook_events::reclaim(c, tenant, id)?;
                settle(c, event.as_slice(), false)?;
                Ok::<_, diesel::result::Error>(event.is_some())
            })
        })
        .await
}

/// Applies claimed events (oldest first) and marks each done: with `dedupe`, a redelivery of a
/// body applied before is recorded as such and not applied again; what failed is recorded per
/// event. Call in a write transaction.
fn settle(conn: &mut DbConn, events: &[WebhookEvent], dedupe: bool) -> Result<(), diesel::result::Error> {
    let firsts = if dedupe { webhook_events::redeliveries(conn, events)? } else { Default::default() };
    let mut batch = apply::Batch::default();
    let mut clean = Vec::with_capacity(events.len());
    for event in events {
        if let Some(first) = firsts.get(&event.id) {
            webhook_events::finish(conn, event.id, None, Some(*first))?;
            continue;
        }
        let errors = apply_event(conn, &mut batch, event);
        if errors.is_empty() {
            clean.push(event.id);
        } else {
            webhook_events::finish(conn, event.id, Some(&errors.join("; ")), None)?;
        }
    }
    batch.finish(conn)?;
    webhook_events::finish_all(conn, &clean)
}

/// Applies every change of every entry, each in its own savepoint; returns the failures.
fn apply_event(conn: &mut DbConn, batch: &mut apply::Batch, event: &WebhookEvent) -> Vec<String> {
    let (Some(tenant), Some(account)) = (event.tenant_id, event.account_id) else {
        return vec!["the event names no account".into()];
    };
    let mut body: Value = match serde_json::from_str(&event.payload) {
        Ok(v) => v,
        Err(e) => return vec![format!("payload: {e}")],
    };
    if crate::extract::spells_nul(event.payload.as_bytes()) {
        ingest::replace_nul(&mut body);
    }
    let target = apply::Target { tenant, account };
    let mut errors = Vec::new();
    for (e, entry) in ingest::entries(&body).iter().enumerate() {
        for (i, change) in ingest::changes(entry).iter().enumerate() {
            for (n, it) in apply::items(change).iter().enumerate() {
                if let Err(err) = batch.item(conn, &target, change, it) {
                    errors.push(format!("entry[{e}].changes[{i}] item {n}: {err}"));
                }
            }
        }
    }
    errors
}
