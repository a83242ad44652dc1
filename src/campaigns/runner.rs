//! The campaign runner: hands each running campaign's pending recipients to the outbox at the
//! campaign's rate (a token bucket per campaign), in small batches, through the outbox's
//! admission. Each recipient's message is inserted (idempotency key `campaign:{id}:{phone}`) and
//! the recipient marked queued in the same transaction, so a crash can never hand a recipient over
//! twice; the outbox never sends twice. A batch costs a fixed number of statements on PostgreSQL
//! (admission's checks, multi-row message and event inserts, one ledger update per outcome),
//! whatever its size.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use super::control;
use crate::db::{DbConn, write_tx};
use crate::domain::TenantId;
use crate::error::ApiError;
use crate::outbox::admission::{self, Candidate, Verdict};
use crate::state::AppState;
use crate::store::campaigns::{self as store, CampaignRow, RecipientRow};

/// Most recipients handed over per campaign per transaction.
const BATCH: usize = 500;

/// How long a campaign whose quota is used up waits before it is looked at again.
const QUOTA_RECHECK: Duration = Duration::from_secs(10);

/// A token bucket refilled at the campaign's rate, holding at most one second's worth (and at least one).
struct Bucket {
    tokens: f64,
    at: Instant,
    /// The campaign's quota was used up: it is not looked at again before then.
    deferred_until: Option<Instant>,
}

impl Bucket {
    fn new() -> Self {
        Bucket { tokens: 1.0, at: Instant::now(), deferred_until: None }
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
    /// Left pending because the tenant's quota or the account's limits are used up for now.
    pub deferred: usize,
    /// The campaign finished: nothing pending and nothing left in the outbox.
    pub completed: bool,
}

/// Most of a campaign's messages waiting in the outbox at once: enough to keep the number busy,
/// little enough that a pause holds few.
fn max_waiting(rate: f64, limits: bool) -> i64 {
    if limits { (rate * 5.0).ceil().max(20.0) as i64 } else { 5_000 }
}

/// Hands up to `n` pending recipients of a running campaign to the outbox, in one transaction,
/// through admission (see [`crate::outbox::admission`]): a recipient refused for itself (opted
/// out, say) is skipped with the refusal's code as reason; a refusal of the whole origin (account,
/// number, template) halts the campaign with it; a used-up quota leaves recipients pending.
/// Marks the campaign completed when nothing is pending or in the outbox.
pub fn hand_over(conn: &mut DbConn, campaign: &CampaignRow, n: usize, limits: bool) -> Result<Batch, ApiError> {
    write_tx(conn, |c| {
        if store::lock_status(c, campaign.id)?.as_deref() != Some("running") {
            return Ok(Batch::default());
        }
        let (waiting, sending) = store::in_outbox(c, campaign.id)?;
        let room = (max_waiting(campaign.rate_mps, limits) - waiting).max(0) as usize;
        let pending = store::pending_batch(c, campaign.id, n.min(room) as i64)?;
        let mut batch = Batch::default();
        if !pending.is_empty() {
            admit(c, campaign, &pending, &mut batch)?;
        }
        if pending.is_empty() && waiting == 0 && sending == 0 && !store::has_pending(c, campaign.id)? {
            let done = store::set_status(c, campaign.id, "completed", None, None)?;
            let data = serde_json::json!({"campaign_id": done.id, "event": "completed", "status": done.status});
            crate::relay::emit(c, TenantId(campaign.tenant_id), "campaign.progress", data)?;
            batch.completed = true;
        }
        Ok(batch)
    })
}

/// Admits a batch of pending recipients (the opt-out list and the rest are checked again at
/// hand-over: a number may opt out mid-campaign) and records each verdict.
fn admit(c: &mut DbConn, campaign: &CampaignRow, pending: &[RecipientRow], batch: &mut Batch) -> Result<(), ApiError> {
    let origin = control::origin(c, campaign)?;
    let template = control::template_use(campaign, &control::definition(campaign)?);
    let candidates = pending
        .iter()
        .map(|r| Candidate {
            recipient: r.phone.clone(),
            payload: r.payload.clone(),
            kind: "template".into(),
            template: Some(template.clone()),
            idempotency_key: Some(super::idempotency_key(campaign.id, &r.phone)),
            campaign_id: Some(campaign.id),
        })
        .collect();
    let verdicts = admission::admit(c, &origin, candidates, &[])?;
    let mut queued = Vec::with_capacity(pending.len());
    let mut skipped: BTreeMap<&'static str, Vec<i64>> = BTreeMap::new();
    let mut halt = None;
    for (r, v) in pending.iter().zip(verdicts) {
        match v {
            Verdict::Queued { id, .. } => queued.push((r.id, id)),
            Verdict::Refused(why) if why.is_quota() => batch.deferred += 1,
            Verdict::Refused(why) if why.refuses_origin() => halt = Some(why),
            Verdict::Refused(why) => skipped.entry(why.code()).or_default().push(r.id),
        }
    }
    for (reason, ids) in &skipped {
        store::mark_skipped(c, ids, reason)?;
        batch.skipped += ids.len();
    }
    store::mark_queued(c, &queued)?;
    batch.queued = queued.len();
    if let Some(why) = halt {
        control::halt(c, campaign.id, why.code(), &why.to_string())?;
    }
    Ok(())
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
        if bucket.deferred_until.is_some_and(|t| t > Instant::now()) {
            continue;
        }
        let n = if limits { bucket.refill(rate, Instant::now()).min(BATCH) } else { BATCH };
        if n == 0 {
            wait = wait.min(bucket.next_in(rate));
            continue;
        }
        let batch = state.db.run(move |c| hand_over(c, &campaign, n, limits)).await?;
        if let Some(b) = buckets.get_mut(&id) {
            b.take(batch.queued + batch.skipped);
            let stalled = batch.deferred > 0 && batch.queued == 0;
            if stalled && b.deferred_until.is_none() {
                tracing::info!(campaign = id, "quota used up: the campaign's recipients wait");
            }
            b.deferred_until = stalled.then(|| Instant::now() + QUOTA_RECHECK);
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
