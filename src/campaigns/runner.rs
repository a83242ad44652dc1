//! The campaign runner: hands each running campaign's pending recipients to the outbox at the
//! campaign's rate (a token bucket per campaign), in small batches. Each recipient's message is
//! inserted (idempotency key `campaign:{id}:{phone}`) and the recipient marked queued in the same
//! transaction, so a crash can never hand a recipient over twice; the outbox never sends twice.
//! A batch costs a fixed number of statements on PostgreSQL (opt-out check, multi-row message and
//! event inserts, one ledger update), whatever its size.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::db::{DbConn, now, write_tx};
use crate::domain::TenantId;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::campaigns::{self as store, CampaignRow};
use crate::store::messages::{self, NewMessage};
use crate::store::opt_outs;

/// Most recipients handed over per campaign per transaction.
const BATCH: usize = 500;

/// A token bucket refilled at the campaign's rate, holding at most one second's worth (and at least one).
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn new() -> Self {
        Bucket { tokens: 1.0, at: Instant::now() }
    }

    fn refill(&mut self, rate: f64, t: Instant) -> usize {
        self.tokens = (self.tokens + rate * t.duration_since(self.at).as_secs_f64()).min(rate.max(1.0));
        self.at = t;
        self.tokens.floor() as usize
    }

    fn take(&mut self, n: usize) {
        self.tokens -= n as f64;
    }

    /// How long until one more token.
    fn next_in(&self, rate: f64) -> Duration {
        Duration::from_secs_f64(((1.0 - self.tokens).max(0.0) / rate.max(0.001)).min(1.0))
    }
}

/// What one batch did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Batch {
    pub queued: usize,
    pub skipped: usize,
    /// The campaign finished: nothing pending and nothing left in the outbox.
    pub completed: bool,
}

/// Most of a campaign's messages waiting in the outbox at once: enough to keep the number busy,
/// little enough that a pause holds few.
fn max_waiting(rate: f64, limits: bool) -> i64 {
    if limits { (rate * 5.0).ceil().max(20.0) as i64 } else { 5_000 }
}

/// Hands up to `n` pending recipients of a running campaign to the outbox, in one transaction
/// (opted-out numbers are skipped with reason `opted_out`);
/// marks the campaign completed when nothing is pending or in the outbox.
pub fn hand_over(conn: &mut DbConn, campaign: &CampaignRow, n: usize, limits: bool) -> Result<Batch, ApiError> {
    write_tx(conn, |c| {
        if store::lock_status(c, campaign.id)?.as_deref() != Some("running") {
            return Ok(Batch::default());
        }
        let (waiting, sending) = store::in_outbox(c, campaign.id)?;
        let room = (max_waiting(campaign.rate_mps, limits) - waiting).max(0) as usize;
        let pending = store::pending_batch(c, campaign.id, n.min(room) as i64)?;
        let tenant = TenantId(campaign.tenant_id);
        // The opt-out list is checked again at hand-over: a number may opt out mid-campaign.
        let phones: Vec<&str> = pending.iter().map(|r| r.phone.as_str()).collect();
        let opted_out = opt_outs::among(c, tenant, &phones)?;
        let (skipped, sent): (Vec<_>, Vec<_>) = pending.iter().partition(|r| opted_out.contains(&r.phone));
        let skipped: Vec<i64> = skipped.iter().map(|r| r.id).collect();
        store::mark_skipped(c, &skipped, "opted_out")?;
        let ts = now();
        let new = sent
            .iter()
            .map(|r| NewMessage {
                tenant_id: campaign.tenant_id,
                account_id: campaign.account_id,
                phone_number_id: campaign.phone_number_id,
                direction: "outbound".into(),
                recipient: r.phone.clone(),
                kind: "template".into(),
                payload: r.payload.clone(),
                status: "queued".into(),
                next_attempt_at: ts,
                idempotency_key: Some(super::idempotency_key(campaign.id, &r.phone)),
                campaign_id: Some(campaign.id),
                template_name: Some(campaign.template_name.clone()),
                created_at: ts,
                updated_at: ts,
            })
            .collect();
        let ids = messages::enqueue_keyed(c, new)?;
        let pairs: Vec<(i64, i64)> = sent.iter().map(|r| r.id).zip(ids).collect();
        store::mark_queued(c, &pairs)?;
        let mut batch = Batch { queued: pairs.len(), skipped: skipped.len(), completed: false };
        if pending.is_empty() && waiting == 0 && sending == 0 && !store::has_pending(c, campaign.id)? {
            let done = store::set_status(c, campaign.id, "completed", None, None)?;
            let data = serde_json::json!({"campaign_id": done.id, "event": "completed", "status": done.status});
            crate::relay::emit(c, tenant, "campaign.progress", data)?;
            batch.completed = true;
        }
        Ok(batch)
    })
}

/// Runs forever: every round, each running campaign gets what its bucket allows.
pub async fn run(state: AppState) {
    let mut buckets: HashMap<i64, Bucket> = HashMap::new();
    loop {
        let wait = match round(&state, &mut buckets).await {
            Ok(wait) => wait,
            Err(e) => {
                tracing::error!(error = ?e, "campaign round failed");
                Duration::from_secs(1)
            }
        };
        tokio::time::sleep(wait).await;
    }
}

async fn round(state: &AppState, buckets: &mut HashMap<i64, Bucket>) -> Result<Duration, ApiError> {
    let running = state.db.run(store::running).await?;
    buckets.retain(|id, _| running.iter().any(|c| c.id == *id));
    let limits = state.settings.outbox_rate_limits;
    let mut wait = Duration::from_millis(250);
    for campaign in running {
        let (id, rate) = (campaign.id, campaign.rate_mps);
        let bucket = buckets.entry(campaign.id).or_insert_with(Bucket::new);
        let n = if limits { bucket.refill(rate, Instant::now()).min(BATCH) } else { BATCH };
        if n == 0 {
            wait = wait.min(bucket.next_in(rate));
            continue;
        }
        let batch = state.db.run(move |c| hand_over(c, &campaign, n, limits)).await?;
        if let Some(b) = buckets.get_mut(&id) {
            b.take(batch.queued + batch.skipped);
        }
        if batch.queued > 0 {
            state.wakeup.wake();
        }
        if batch.queued + batch.skipped > 0 {
            wait = Duration::ZERO.max(wait.min(Duration::from_millis(if limits { 20 } else { 0 })));
        }
    }
    Ok(wait)
}
