//! Group commit of received webhook bodies: handlers hand their verified events to one writer
//! thread, which stores every job waiting on its channel in one transaction and answers each job
//! only after that transaction committed. One commit (one WAL sync on PostgreSQL, one write lock
//! on SQLite) is then shared by every request that arrived meanwhile, and no 200 is sent before
//! its row is stored. A job verified against a cached account row carries that row's version;
//! it is stored only if the account still has it in the same transaction.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

use diesel::prelude::*;
use tokio::sync::{mpsc, oneshot};

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

/// Per job: the ids of its new rows, or `None` when its guard no longer matched (nothing stored).
type Answer = Option<Vec<i64>>;

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
}

impl Writer {
    /// Starts the writer thread; `wakeup` is woken after each commit that stored a new event.
    pub fn start(db: Db, wakeup: Wakeup) -> std::io::Result<Self> {
        let (jobs, queue) = mpsc::channel(QUEUE);
        std::thread::Builder::new().name("webhook-writer".into()).spawn(move || run(&db, &wakeup, queue))?;
        Ok(Writer { jobs })
    }

    /// Stores a request's events in one transaction (all or none) and returns the ids of the new
    /// ones; a redelivered event (same dedupe key) is not stored again and has no id. Returns
    /// once the transaction committed. With a `guard`, stores only if that account row is
    /// unchanged, else stores nothing and returns `None`.
    pub async fn store(&self, events: Vec<NewEvent>, guard: Option<Guard>) -> Result<Answer, ApiError> {
        let (done, answer) = oneshot::channel();
        let stopped = || ApiError::internal("the webhook writer stopped");
        self.jobs.send(Job { events, guard, done }).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

/// Takes every waiting job (up to `MAX_ROWS` rows), stores them together, answers them; until
/// every handle is gone.
fn run(db: &Db, wakeup: &Wakeup, mut queue: mpsc::Receiver<Job>) {
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
        if answers.iter().any(|a| matches!(a, Ok(Some(ids)) if !ids.is_empty())) {
            wakeup.wake();
        }
        for (job, answer) in jobs.into_iter().zip(answers) {
            let _ = job.done.send(answer);
        }
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
    jobs.iter()
        .map(|job| write_tx(conn, |c| insert_jobs(c, std::slice::from_ref(job)).map(|mut a| a.remove(0))))
        .collect()
}

/// Inserts the events of the jobs whose guard holds (each dedupe key once) and returns, per job,
/// the ids of its new rows (`None` for a job whose guard failed).
fn insert_jobs(conn: &mut DbConn, jobs: &[Job]) -> QueryResult<Vec<Answer>> {
    let mut versions = HashMap::new();
    for (id, _) in jobs.iter().filter_map(|j| j.guard) {
        if let Entry::Vacant(slot) = versions.entry(id) {
            slot.insert(accounts::table.find(id).select(accounts::updated_at).first(conn).optional()?);
        }
    }
    let holds = |j: &Job| j.guard.is_none_or(|(id, version)| versions.get(&id) == Some(&Some(version)));
    let mut seen = HashSet::new();
    let rows: Vec<&NewEvent> = jobs
        .iter()
        .filter(|j| holds(j))
        .flat_map(|j| &j.events)
        .filter(|e| seen.insert(e.dedupe_key.as_str()))
        .collect();
    let stored = webhook_events::insert_many(conn, &rows)?;
    let mut ids: HashMap<String, i64> = stored.into_iter().collect();
    Ok(jobs
        .iter()
        .map(|j| holds(j).then(|| j.events.iter().filter_map(|e| ids.remove(&e.dedupe_key)).collect()))
        .collect())
}
