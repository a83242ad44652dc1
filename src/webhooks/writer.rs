//! Group commit of received webhook bodies: handlers hand their verified events to one writer
//! thread, which stores every job waiting on its channel in one transaction and answers each job
//! only after that transaction committed. One commit (one WAL sync on PostgreSQL, one write lock
//! on SQLite) is then shared by every request that arrived meanwhile, and no 200 is sent before
//! its row is stored. A job verified against a cached account row carries that row's version;
//! it is stored only if the account still has it in the same transaction. Redeliveries are stored
//! too and recognised when applied, so a batch only appends rows.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use tokio::sync::{Notify, mpsc, oneshot};

use crate::db::schema::accounts;
use crate::db::{Db, DbConn, write_tx};
use crate::error::ApiError;
use crate::outbox::Wakeup;
use crate::store::webhook_events::{self, NewEvent};

/// Jobs that may wait for the writer; further handlers wait for room (backpressure).
const QUEUE: usize = 8192;
/// Rows stored per transaction at most; more waiting jobs go in the next one.
const MAX_ROWS: usize = 2048;

/// The account (id, `updated_at`) a body was verified against.
pub type Guard = (i64, chrono::NaiveDateTime);

/// Per job: whether it was stored (`false` when its guard no longer matched: nothing stored).
type Answer = bool;

/// The events of one request and where to answer.
struct Job {
    events: Vec<NewEvent>,
    guard: Option<Guard>,
    done: oneshot::Sender<Result<Answer, ApiError>>,
}

/// The handle handlers store through; the thread stops when every handle is dropped.
#[derive(Clone)]
pub struct Writer {
    jobs: mpsc::Sender<Job>,
    load: Arc<Load>,
}

/// A commit this recent means bodies are still arriving (their senders are between requests).
const RECENT: Duration = Duration::from_millis(2);
/// Each commit stores what arrived while the one before ran; more than this many rows per commit,
/// on average, means requests are queuing for the writer (no fewer senders can cause it).
const SATURATED_ROWS: f64 = 8.0;

/// What the processor reads to give way to ingest.
struct Load {
    /// Jobs sent and not yet answered.
    unanswered: AtomicUsize,
    /// When the last batch was answered, in microseconds since `epoch`.
    last_commit: AtomicU64,
    /// Rows stored per commit, averaged over the last ten or so (`f64` bits).
    rows_per_commit: AtomicU64,
    epoch: Instant,
    /// Notified after every batch.
    committed: Notify,
}

impl Load {
    fn micros(&self) -> u64 {
        self.epoch.elapsed().as_micros() as u64
    }
}

impl Writer {
    /// Starts the writer thread; `wakeup` is woken after each commit that stored a new event.
    pub fn start(db: Db, wakeup: Wakeup) -> std::io::Result<Self> {
        let (jobs, queue) = mpsc::channel(QUEUE);
        let load = Arc::new(Load {
            unanswered: AtomicUsize::new(0),
            last_commit: AtomicU64::new(0),
            rows_per_commit: AtomicU64::new(0f64.to_bits()),
            epoch: Instant::now(),
            committed: Notify::new(),
        });
        let shared = load.clone();
        std::thread::Builder::new().name("webhook-writer".into()).spawn(move || run(&db, &wakeup, &shared, queue))?;
        Ok(Writer { jobs, load })
    }

    /// Whether bodies are being stored or waiting to be, or were stored a moment ago.
    pub fn busy(&self) -> bool {
        let l = &self.load;
        let last = l.last_commit.load(Ordering::Relaxed);
        l.unanswered.load(Ordering::Relaxed) > 0 || (last > 0 && l.micros() - last < RECENT.as_micros() as u64)
    }

    /// Whether bodies arrive faster than the writer turns them around: its recent commits stored
    /// more than `SATURATED_ROWS` each, on average.
    pub fn saturated(&self) -> bool {
        self.busy() && f64::from_bits(self.load.rows_per_commit.load(Ordering::Relaxed)) > SATURATED_ROWS
    }

    /// Completes after the writer's next commit.
    pub async fn committed(&self) {
        self.load.committed.notified().await
    }

    /// Stores a request's events in one transaction (all or none); returns once the transaction
    /// committed. With a `guard`, stores only if that account row is unchanged, else stores
    /// nothing and returns `false`.
    pub async fn store(&self, events: Vec<NewEvent>, guard: Option<Guard>) -> Result<Answer, ApiError> {
        let (done, answer) = oneshot::channel();
        let stopped = || ApiError::internal("the webhook writer stopped");
        let _waiting = Waiting::new(&self.load.unanswered);
        self.jobs.send(Job { events, guard, done }).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

/// Counts one request as unanswered for as long as it lives, also when its handler is dropped
/// (the sender hung up) before the answer came.
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn new(count: &'a AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::Relaxed);
        Waiting(count)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Takes every waiting job (up to `MAX_ROWS` rows), stores them together, answers them; until
/// every handle is gone.
fn run(db: &Db, wakeup: &Wakeup, load: &Load, mut queue: mpsc::Receiver<Job>) {
    while let Some(first) = queue.blocking_recv() {
        let mut rows = first.events.len();
        let mut jobs = vec![first];
        while rows < MAX_ROWS {
            let Ok(job) = queue.try_recv() else { break };
            rows += job.events.len();
            jobs.push(job);
        }
        let answers: Vec<Result<Answer, ApiError>> = match db.get() {
            Ok(mut conn) => store_jobs(&mut conn, &jobs).into_iter().map(|a| a.map_err(ApiError::from)).collect(),
            Err(e) => jobs.iter().map(|_| Err(ApiError::internal(format!("webhook writer: {}", e.code())))).collect(),
        };
        if answers.iter().any(|a| matches!(a, Ok(true))) {
            wakeup.wake();
        }
        for (job, answer) in jobs.into_iter().zip(answers) {
            let _ = job.done.send(answer);
        }
        let average = f64::from_bits(load.rows_per_commit.load(Ordering::Relaxed));
        load.rows_per_commit.store((0.9 * average + 0.1 * rows as f64).to_bits(), Ordering::Relaxed);
        load.last_commit.store(load.micros().max(1), Ordering::Relaxed);
        load.committed.notify_waiters();
    }
}

/// Stores the jobs in one transaction; when it fails, each job alone, so one bad job fails only
/// its own request.
fn store_jobs(conn: &mut DbConn, jobs: &[Job]) -> Vec<QueryResult<Answer>> {
    if jobs.len() > 1 {
        match write_tx(conn, |c| insert_jobs(c, jobs)) {
            Ok(answers) => return answers.into_iter().map(Ok).collect(),
            Err(e) => {
                tracing::warn!(error = %e, jobs = jobs.len(), "webhook batch failed; storing its jobs one by one")
            }
        }
    }
    jobs.iter().map(|job| write_tx(conn, |c| insert_jobs(c, std::slice::from_ref(job)).map(|a| a[0]))).collect()
}

/// Inserts the events of the jobs whose guard holds and returns, per job, whether it was stored.
fn insert_jobs(conn: &mut DbConn, jobs: &[Job]) -> QueryResult<Vec<Answer>> {
    let mut versions = HashMap::new();
    for (id, _) in jobs.iter().filter_map(|j| j.guard) {
        if let Entry::Vacant(slot) = versions.entry(id) {
            slot.insert(accounts::table.find(id).select(accounts::updated_at).first(conn).optional()?);
        }
    }
    let holds: Vec<bool> =
        jobs.iter().map(|j| j.guard.is_none_or(|(id, version)| versions.get(&id) == Some(&Some(version)))).collect();
    let rows: Vec<&NewEvent> = jobs.iter().zip(&holds).filter(|(_, h)| **h).flat_map(|(j, _)| &j.events).collect();
    webhook_events::insert_many(conn, &rows)?;
    Ok(holds)
}

#[cfg(test)]
mod tests {
    use diesel::connection::SimpleConnection;

    use super::*;

    #[actix_web::test]
    async fn a_request_dropped_before_its_answer_is_no_longer_counted() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&format!("sqlite://{}/writer.db", dir.path().display()), 2).unwrap();
        let writer = Writer::start(db, Wakeup::default()).unwrap();
        let unanswered = || writer.load.unanswered.load(Ordering::Relaxed);
        // Polled once (the job is sent, its answer not yet in), then dropped: the sender hung up.
        let mut hung_up = Box::pin(writer.store(Vec::new(), None));
        while futures_util::poll!(hung_up.as_mut()).is_ready() {
            hung_up = Box::pin(writer.store(Vec::new(), None));
        }
        assert_eq!(unanswered(), 1);
        drop(hung_up);
        assert_eq!(unanswered(), 0);
        assert!(writer.store(Vec::new(), None).await.unwrap());
        assert_eq!(unanswered(), 0);
    }

    #[actix_web::test]
    async fn requests_queued_behind_a_commit_mark_the_writer_saturated_until_commits_shrink() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}/writer.db", dir.path().display());
        let db = Db::open(&url, 2).unwrap();
        let writer = Writer::start(db, Wakeup::default()).unwrap();
        let average = || f64::from_bits(writer.load.rows_per_commit.load(Ordering::Relaxed));
        let event = || crate::store::webhook_events::NewEvent {
            tenant_id: None,
            account_id: None,
            provider: "meta".into(),
            kind: "messages".into(),
            dedupe_key: "k".into(),
            signature_valid: true,
            quarantined: true,
            payload: "{}".into(),
            received_at: crate::db::now(),
        };
        // Another connection holds the write lock while 100 requests arrive.
        let mut other = crate::db::connect(&url).unwrap();
        other.batch_execute("BEGIN IMMEDIATE").unwrap();
        let queued = futures_util::future::join_all((0..100).map(|_| writer.store(vec![event()], None)));
        let release = async {
            tokio::time::sleep(Duration::from_millis(200)).await;
            other.batch_execute("COMMIT").unwrap();
        };
        let (answers, ()) = futures_util::join!(queued, release);
        assert!(answers.into_iter().all(|a| a.unwrap()));
        assert!(average() > SATURATED_ROWS, "{}", average());
        for _ in 0..30 {
            writer.store(vec![event()], None).await.unwrap();
        }
        assert!(average() < SATURATED_ROWS, "{}", average());
    }
}
