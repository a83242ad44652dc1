//! The dispatch loop: claim due messages per phone number within its limits, send each once,
//! hand the outcome to the recorder.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{Semaphore, mpsc};

use super::Wakeup;
use super::backoff;
use super::limiter::{PairGuard, Window};
use super::marker::Marker;
use crate::db::now;
use crate::domain::PhoneNumber;
use crate::providers::{
    MessageBody, OutboundMessage, Provider, ProviderError, ProviderErrorKind, StatusEvent as ProviderStatus,
};
use crate::state::AppState;
use crate::store::messages::Message;
use crate::store::outbox::{Outcome, expire_leases, settle_unknown};
use crate::store::statuses::StatusEvent;
use crate::store::{self, phone_numbers::DispatchInfo};

/// How long cached number settings and providers are trusted before a reload.
const REFRESH: Duration = Duration::from_secs(5);

/// Per-account minute/day/month budget, from the usage rollups plus what this process sent since.
#[derive(Default)]
struct AccountBudget {
    minute: VecDeque<Instant>,
    day_sent: i64,
    month_sent: i64,
    loaded: Option<Instant>,
}

impl AccountBudget {
    fn allowed(&mut self, info: &DispatchInfo, now: Instant) -> usize {
        while self.minute.front().is_some_and(|t| now.duration_since(*t) >= Duration::from_secs(60)) {
            self.minute.pop_front();
        }
        let left = |limit: Option<i64>, used: i64| limit.map_or(usize::MAX, |l| (l - used).max(0) as usize);
        left(info.limit_per_minute, self.minute.len() as i64)
            .min(left(info.limit_per_day, self.day_sent))
            .min(left(info.limit_per_month, self.month_sent))
    }

    fn take(&mut self, n: usize, now: Instant) {
        self.minute.extend(std::iter::repeat_n(now, n));
        self.day_sent += n as i64;
        self.month_sent += n as i64;
    }
}

/// The dispatcher's state; one per process.
pub struct Dispatcher {
    state: AppState,
    instance: String,
    wakeup: Wakeup,
    windows: HashMap<i64, Window>,
    budgets: HashMap<i64, AccountBudget>,
    pairs: PairGuard,
    infos: HashMap<i64, (Instant, DispatchInfo)>,
    providers: HashMap<i64, (Instant, Arc<dyn Provider>)>,
    in_flight: Arc<Semaphore>,
    marker: Marker,
}

impl Dispatcher {
    pub fn new(state: AppState) -> Self {
        let wakeup = state.wakeup.clone();
        let concurrency = state.settings.outbox_concurrency;
        let instance = format!("{}-{}", std::process::id(), crate::auth::tokens::random_token()[..8].to_owned());
        Dispatcher {
            marker: Marker::start(state.db.clone(), instance.clone()),
            instance,
            state,
            wakeup,
            windows: HashMap::new(),
            budgets: HashMap::new(),
            pairs: PairGuard::default(),
            infos: HashMap::new(),
            providers: HashMap::new(),
            in_flight: Arc::new(Semaphore::new(concurrency)),
        }
    }

    /// Runs forever: sweeps expired leases, claims and sends. Errors are logged and retried.
    pub async fn run(mut self) {
        let (tx, rx) = mpsc::channel(10_000);
        tokio::spawn(super::recorder::run(self.state.db.clone(), rx));
        let lease = chrono::Duration::seconds(self.state.settings.outbox_lease_secs as i64);
        let settle = chrono::Duration::seconds(self.state.settings.unknown_settle_secs as i64);
        let mut last_sweep = Instant::now() - Duration::from_secs(3600);
        loop {
            if last_sweep.elapsed() >= Duration::from_secs(1) {
                last_sweep = Instant::now();
                match self.state.db.run(move |c| expire_leases(c, lease)).await {
                    Ok(n) if n > 0 => {
                        tracing::warn!(messages = n, "messages left mid-send by a stopped process are now unknown")
                    }
                    Ok(_) => {}
                    Err(e) => tracing::error!(error = ?e, "lease sweep failed"),
                }
                match self.state.db.run(move |c| settle_unknown(c, settle)).await {
                    Ok(n) if n > 0 => {
                        tracing::warn!(messages = n, "messages in doubt with no status report are now unconfirmed")
                    }
                    Ok(_) => {}
                    Err(e) => tracing::error!(error = ?e, "settle sweep failed"),
                }
            }
            let wait = match self.round(&tx).await {
                Ok(wait) => wait,
                Err(e) => {
                    tracing::error!(error = ?e, "dispatch round failed");
                    Duration::from_millis(500)
                }
            };
            if !wait.is_zero() {
                tokio::select! {
                    _ = self.wakeup.wait() => {}
                    _ = tokio::time::sleep(wait) => {}
                }
            }
        }
    }

    /// One pass over the numbers with due messages; returns how long to idle afterwards.
    async fn round(&mut self, tx: &mpsc::Sender<Outcome>) -> Result<Duration, crate::error::ApiError> {
        let due = self.state.db.run(|c| store::messages::due_numbers(c, now(), 500)).await?;
        if due.is_empty() {
            return Ok(Duration::from_millis(250));
        }
        let limits = self.state.settings.outbox_rate_limits;
        let batch = self.state.settings.outbox_batch;
        let mut idle = Duration::from_millis(250);
        let mut claimed_any = false;
        for number in due {
            let Some(info) = self.info(number).await? else { continue };
            let t = Instant::now();
            let mut budget = batch as usize;
            if limits {
                let window = self.windows.entry(number).or_default();
                budget = budget.min(window.available(info.throughput_mps, t));
                if budget == 0 {
                    idle = idle.min(window.next_free(info.throughput_mps, t));
                    continue;
                }
                let account = self.account_budget(&info).await?;
                budget = budget.min(account.allowed(&info, t));
                if budget == 0 {
                    idle = idle.min(Duration::from_secs(1));
                    continue;
                }
            }
            let free = self.in_flight.available_permits();
            if free == 0 {
                return Ok(Duration::from_millis(2));
            }
            // Claim only what can be sent at once; a claimed message stays `queued` (due again
            // after the lease if this process stops) until its own request is about to start.
            let budget = budget.min(free);
            let instance = self.instance.clone();
            let lease_until = now() + chrono::Duration::seconds(self.state.settings.outbox_lease_secs as i64);
            let claimed = self
                .state
                .db
                .run(move |c| store::messages::claim(c, &instance, number, budget as i64, lease_until))
                .await?;
            if claimed.is_empty() {
                continue;
            }
            claimed_any = true;
            if limits {
                self.windows.entry(number).or_default().take(claimed.len(), t);
                self.budgets.entry(info.account_id).or_default().take(claimed.len(), t);
            }
            let provider = self.provider(info.account_id, number).await?;
            for m in claimed {
                if limits && let Some(wait) = self.pairs.check(number, &m.recipient, Instant::now()) {
                    let at = now() + chrono::Duration::from_std(wait).unwrap_or_default();
                    let _ = tx
                        .send(Outcome::Requeue {
                            id: m.id,
                            at,
                            reason: "pair rate: one message per 6 s to the same user".into(),
                        })
                        .await;
                    continue;
                }
                let permit = self.in_flight.clone().acquire_owned().await.expect("semaphore is never closed");
                let (tx, provider, settings) = (tx.clone(), provider.clone(), self.state.settings.clone());
                let marker = self.marker.clone();
                tokio::spawn(async move {
                    if !marker.mark(m.id).await {
                        return;
                    }
                    let m = Message { attempts: m.attempts + 1, ..m };
                    let (outcome, statuses) = send_one(&*provider, &m, settings.outbox_max_attempts).await;
                    drop(permit);
                    let _ = tx.send(outcome).await;
                    for event in statuses {
                        let wait = (event.timestamp - chrono::Utc::now()).to_std().unwrap_or_default();
                        tokio::time::sleep(wait).await;
                        let _ = tx.send(Outcome::Status(status_event(event))).await;
                    }
                });
            }
        }
        Ok(if claimed_any { Duration::ZERO } else { idle })
    }

    async fn info(&mut self, number: i64) -> Result<Option<DispatchInfo>, crate::error::ApiError> {
        if let Some((at, info)) = self.infos.get(&number)
            && at.elapsed() < REFRESH
        {
            return Ok(Some(info.clone()));
        }
        let info = self.state.db.run(move |c| store::phone_numbers::dispatch_info(c, number)).await?;
        if let Some(i) = &info {
            self.infos.insert(number, (Instant::now(), i.clone()));
        }
        Ok(info)
    }

    async fn account_budget(&mut self, info: &DispatchInfo) -> Result<&mut AccountBudget, crate::error::ApiError> {
        let account = info.account_id;
        let stale = self.budgets.get(&account).is_none_or(|b| b.loaded.is_none_or(|l| l.elapsed() >= REFRESH));
        if stale && (info.limit_per_day.is_some() || info.limit_per_month.is_some()) {
            let today = now().date();
            let month_start = today.with_day0(0).unwrap_or(today);
            let (day, month) = self
                .state
                .db
                .run(move |c| {
                    Ok::<_, diesel::result::Error>((
                        store::usage::sent_since(c, account, today)?,
                        store::usage::sent_since(c, account, month_start)?,
                    ))
                })
                .await?;
            let b = self.budgets.entry(account).or_default();
            b.day_sent = day;
            b.month_sent = month;
            b.loaded = Some(Instant::now());
        }
        Ok(self.budgets.entry(account).or_default())
    }

    async fn provider(&mut self, account: i64, number: i64) -> Result<Arc<dyn Provider>, crate::error::ApiError> {
        if let Some((at, p)) = self.providers.get(&number)
            && at.elapsed() < REFRESH
        {
            return Ok(p.clone());
        }
        let (row, phone) = self
            .state
            .db
            .run(move |c| {
                let a = store::accounts::by_id(c, account)?.ok_or(diesel::result::Error::NotFound)?;
                let p = store::phone_numbers::by_id(c, number)?;
                Ok::<_, diesel::result::Error>((a, p))
            })
            .await?;
        let p = self.state.providers.get(&row, phone.as_ref(), &self.state.vault, &self.state.settings)?;
        self.providers.insert(number, (Instant::now(), p.clone()));
        Ok(p)
    }
}

use chrono::Datelike;

/// Sends one claimed message and classifies the result; a simulating provider also returns the
/// status updates it will "deliver" later.
async fn send_one(provider: &dyn Provider, m: &Message, max_attempts: i32) -> (Outcome, Vec<ProviderStatus>) {
    let body: MessageBody = match serde_json::from_str(&m.payload) {
        Ok(b) => b,
        Err(e) => return (failed(m, None, "invalid_payload", &format!("stored payload is unreadable: {e}")), vec![]),
    };
    let to = match PhoneNumber::parse(&m.recipient) {
        Ok(p) => p,
        Err(e) => return (failed(m, None, "invalid_recipient", e.code()), vec![]),
    };
    let msg = OutboundMessage { to, callback_data: Some(m.id.to_string()), reply_to: None, body };
    match provider.send_message(&msg).await {
        Ok(receipt) => {
            let statuses = provider.simulated_statuses(&msg, &receipt);
            let sent = Outcome::Sent { id: m.id, provider_message_id: receipt.provider_message_id };
            (sent, statuses)
        }
        Err(e) => (classify(m, &e, max_attempts), vec![]),
    }
}

/// A provider's status update in the form the status store applies.
fn status_event(e: ProviderStatus) -> StatusEvent {
    StatusEvent {
        our_id: e.callback_data.as_deref().and_then(|c| c.parse().ok()),
        account_id: None,
        provider_message_id: e.provider_message_id,
        status: e.status,
        at: e.timestamp.naive_utc(),
        error_code: e.error.as_ref().map(|(code, _)| code.to_string()),
        error_title: e.error.as_ref().map(|_| "ERR_DELIVERY_FAILED".to_string()),
        error_detail: e.error.map(|(_, text)| text),
        pricing: None,
    }
}

fn failed(m: &Message, code: Option<String>, title: &str, detail: &str) -> Outcome {
    Outcome::Failed { id: m.id, code, title: title.into(), detail: detail.into() }
}

/// Maps a provider error to the message's next state.
fn classify(m: &Message, e: &ProviderError, max_attempts: i32) -> Outcome {
    let code = e.code.map(|c| c.to_string());
    let detail = e.details.clone().map_or_else(|| e.message.clone(), |d| format!("{}: {d}", e.message));
    if e.maybe_delivered {
        return Outcome::Unknown { id: m.id, detail };
    }
    if e.kind == ProviderErrorKind::AuthFailed {
        let at = now() + chrono::Duration::seconds(60);
        return Outcome::Reauth { id: m.id, account: m.account_id, at, detail };
    }
    if e.is_retryable() && m.attempts < max_attempts {
        let delay = backoff::delay(m.attempts, e.retry_after, Duration::from_secs(1), Duration::from_secs(300));
        return Outcome::Retry {
            id: m.id,
            at: now() + chrono::Duration::from_std(delay).unwrap_or_default(),
            code,
            detail,
        };
    }
    failed(m, code, e.seed_code(), &detail)
}
