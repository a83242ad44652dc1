//! The outbox: messages are admitted by one set of sending rules (whoever sends them), queued,
//! claimed, rate limited, marked `sending` just before their own request, sent once through their
//! account's provider, and their outcomes recorded in batches.

pub mod admission;
pub mod backoff;
pub mod dispatcher;
pub mod limiter;
pub mod marker;
pub mod recorder;

use std::sync::Arc;

use tokio::sync::Notify;

/// Wakes the dispatcher when a message is queued, so sends do not wait for the next poll.
#[derive(Clone, Default)]
pub struct Wakeup(Arc<Notify>);

impl Wakeup {
    pub fn wake(&self) {
        self.0.notify_one();
    }
    pub async fn wait(&self) {
        self.0.notified().await
    }
}
