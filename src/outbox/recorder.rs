//! Collects dispatch outcomes and writes them in batches (one transaction per batch).

use std::time::Duration;

use tokio::sync::mpsc;

use crate::db::Db;
use crate::store::outbox::{Outcome, apply};

/// Most outcomes written in one transaction.
const MAX_BATCH: usize = 1000;

/// Writes outcomes until every sender is dropped. A failed write is retried, so no outcome is lost
/// while the process lives; if it dies, the lease sweep turns the messages `unknown`.
pub async fn run(db: Db, mut rx: mpsc::Receiver<Outcome>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        loop {
            let outcomes = batch.clone();
            match db.run(move |c| apply(c, &outcomes)).await {
                Ok(()) => break,
                Err(e) => {
                    tracing::error!(error = ?e, n = batch.len(), "recording outcomes failed; retrying");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        }
        batch.clear();
    }
}
