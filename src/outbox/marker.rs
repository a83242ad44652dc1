//! Marks each message `sending` immediately before its own request is written: a send task asks
//! and waits; the marks asked for meanwhile are written together in one statement (a group
//! commit), so a crash leaves in doubt only the messages whose requests had started.

use std::collections::HashSet;

use tokio::sync::{mpsc, oneshot};

use crate::db::Db;
use crate::store::messages::mark_sending;

/// Most marks written in one statement.
const MAX_BATCH: usize = 1000;

type Ask = (i64, oneshot::Sender<bool>);

/// The handle send tasks ask through.
#[derive(Clone)]
pub struct Marker(mpsc::Sender<Ask>);

impl Marker {
    /// Starts the marking task for the claims of `instance`.
    pub fn start(db: Db, instance: String) -> Marker {
        let (tx, rx) = mpsc::channel(MAX_BATCH);
        tokio::spawn(run(db, instance, rx));
        Marker(tx)
    }

    /// Marks the message `sending`; `false` when it must not be sent (cancelled, claimed by
    /// another process, or the mark could not be written: it is then due again after its lease).
    pub async fn mark(&self, id: i64) -> bool {
        let (tx, rx) = oneshot::channel();
        if self.0.send((id, tx)).await.is_err() {
            return false;
        }
        rx.await.unwrap_or(false)
    }
}

async fn run(db: Db, instance: String, mut rx: mpsc::Receiver<Ask>) {
    let mut batch: Vec<Ask> = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let ids: Vec<i64> = batch.iter().map(|(id, _)| *id).collect();
        let instance = instance.clone();
        let marked: HashSet<i64> = match db.run(move |c| mark_sending(c, &instance, &ids)).await {
            Ok(marked) => marked.into_iter().collect(),
            Err(e) => {
                tracing::error!(error = ?e, n = batch.len(), "marking messages sending failed; they wait for their lease");
                HashSet::new()
            }
        };
        for (id, reply) in batch.drain(..) {
            let _ = reply.send(marked.contains(&id));
        }
    }
}
