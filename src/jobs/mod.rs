//! Periodic background work: health checks of every active account and template syncs.
//! Each runs in every `serve` process that has it switched on (intervals of 0 switch it off).

use std::time::Duration;

use crate::remote;
use crate::state::AppState;
use crate::store;

/// Starts the periodic jobs on the current runtime.
pub fn spawn(state: &AppState) {
    let health = state.settings.health_check_interval_secs;
    if health > 0 {
        tokio::spawn(every(state.clone(), Duration::from_secs(health), Job::Health));
    }
    let sync = state.settings.template_sync_interval_secs;
    if sync > 0 {
        tokio::spawn(every(state.clone(), Duration::from_secs(sync), Job::TemplateSync));
    }
}

#[derive(Clone, Copy, Debug)]
enum Job {
    Health,
    TemplateSync,
}

async fn every(state: AppState, period: Duration, job: Job) {
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let accounts = match state.db.run(store::accounts::all_active).await {
            Ok(a) => a,
            Err(e) => {
                tracing::error!(error = ?e, ?job, "listing accounts failed");
                continue;
            }
        };
        for a in accounts {
            let result = match job {
                Job::Health => remote::health_check(&state, &a).await.map(|_| ()),
                Job::TemplateSync => remote::sync_templates(&state, &a).await.map(|_| ()),
            };
            if let Err(e) = result {
                tracing::warn!(account = a.id, ?job, error = ?e, "background job failed for an account");
            }
        }
    }
}
