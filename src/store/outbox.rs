//! Recording dispatch outcomes in batches: status, history, usage, and the lease sweep.

use diesel::prelude::*;

use crate::db::schema::{accounts, messages};
use crate::db::{DbConn, now, write_tx};
use crate::domain::TenantId;
use crate::relay;
use crate::store::{messages::add_event, usage};

/// What happened to one claimed message.
#[derive(Clone, Debug)]
pub enum Outcome {
    /// The provider accepted it.
    Sent { id: i64, tenant: i64, account: i64, template: Option<String>, provider_message_id: String },
    /// A definite, retryable refusal: try again at `at`.
    Retry { id: i64, at: chrono::NaiveDateTime, code: Option<String>, detail: String },
    /// Not sent, and not worth retrying.
    Failed {
        id: i64,
        tenant: i64,
        account: i64,
        template: Option<String>,
        code: Option<String>,
        title: String,
        detail: String,
    },
    /// It may or may not have reached the provider; never resent, reconciled by status webhooks.
    Unknown { id: i64, detail: String },
    /// Not attempted (a limit said wait): back to the queue without using an attempt.
    Requeue { id: i64, at: chrono::NaiveDateTime, reason: String },
    /// The credentials were refused: the message waits and the account needs new credentials.
    Reauth { id: i64, account: i64, at: chrono::NaiveDateTime, detail: String },
    /// A delivery status reported for a sent message (the sandbox's simulated webhooks).
    Status(crate::store::statuses::StatusEvent),
}

/// Applies a batch of outcomes in one write transaction.
pub fn apply(conn: &mut DbConn, outcomes: &[Outcome]) -> QueryResult<()> {
    write_tx(conn, |c| {
        let ts = now();
        let today = ts.date();
        let mut usage = usage::Tally::default();
        let mut subscribers = relay::StatusSubscribers::default();
        for o in outcomes {
            match o {
                Outcome::Sent { id, tenant, account, template, provider_message_id } => {
                    let moved = diesel::update(messages::table.find(id).filter(messages::status.eq("sending")))
                        .set((messages::status.eq("sent"), messages::sent_at.eq(ts), messages::updated_at.eq(ts)))
                        .execute(c)?;
                    diesel::update(messages::table.find(id))
                        .set(messages::provider_message_id.eq(provider_message_id))
                        .execute(c)?;
                    add_event(c, *id, "sent", None)?;
                    if moved > 0 {
                        subscribers.emit(c, TenantId(*tenant), *id)?;
                    }
                    let one = usage::Counts { sent: 1, ..Default::default() };
                    usage.add(*tenant, *account, today, one);
                    if let Some(name) = template {
                        usage.add_template(*tenant, *account, today, name, one);
                    }
                }
                Outcome::Retry { id, at, code, detail } => {
                    diesel::update(messages::table.find(id))
                        .set((
                            messages::status.eq("queued"),
                            messages::next_attempt_at.eq(at),
                            messages::error_code.eq(code),
                            messages::error_detail.eq(detail),
                            messages::updated_at.eq(ts),
                        ))
                        .execute(c)?;
                    add_event(c, *id, "retry_scheduled", Some(detail))?;
                }
                Outcome::Failed { id, tenant, account, template, code, title, detail } => {
                    diesel::update(messages::table.find(id))
                        .set((
                            messages::status.eq("failed"),
                            messages::failed_at.eq(ts),
                            messages::error_code.eq(code),
                            messages::error_title.eq(title),
                            messages::error_detail.eq(detail),
                            messages::updated_at.eq(ts),
                        ))
                        .execute(c)?;
                    add_event(c, *id, "failed", Some(detail))?;
                    crate::campaigns::control::on_message_failed(c, *id, title, detail)?;
                    subscribers.emit(c, TenantId(*tenant), *id)?;
                    let one = usage::Counts { failed: 1, ..Default::default() };
                    usage.add(*tenant, *account, today, one);
                    usage.add_failure(*tenant, *account, today, code.as_deref().unwrap_or(title), 1);
                    if let Some(name) = template {
                        usage.add_template(*tenant, *account, today, name, one);
                    }
                }
                Outcome::Unknown { id, detail } => {
                    diesel::update(messages::table.find(id))
                        .set((
                            messages::status.eq("unknown"),
                            messages::error_detail.eq(detail),
                            messages::updated_at.eq(ts),
                        ))
                        .execute(c)?;
                    add_event(c, *id, "unknown", Some(detail))?;
                }
                Outcome::Requeue { id, at, reason } => requeue(c, *id, *at, reason)?,
                Outcome::Status(event) => {
                    crate::store::statuses::apply(c, &mut subscribers, &mut usage, event)?;
                }
                Outcome::Reauth { id, account, at, detail } => {
                    requeue(c, *id, *at, detail)?;
                    diesel::update(accounts::table.find(account))
                        .set((accounts::status.eq("needs_reauth"), accounts::updated_at.eq(ts)))
                        .execute(c)?;
                }
            }
        }
        usage.write(c)
    })
}

fn requeue(c: &mut DbConn, id: i64, at: chrono::NaiveDateTime, reason: &str) -> QueryResult<()> {
    diesel::update(messages::table.find(id))
        .set((
            messages::status.eq("queued"),
            messages::next_attempt_at.eq(at),
            messages::attempts.eq(messages::attempts - 1),
            messages::updated_at.eq(now()),
        ))
        .execute(c)?;
    add_event(c, id, "waiting", Some(reason))
}

/// Marks messages left in `sending` past the lease (their process died mid-send) as `unknown`:
/// they may have reached the provider, so they are never sent again.
pub fn expire_leases(conn: &mut DbConn, lease: chrono::Duration) -> QueryResult<usize> {
    write_tx(conn, |c| {
        let cutoff = now() - lease;
        let ids: Vec<i64> = messages::table
            .filter(messages::status.eq("sending").and(messages::claimed_at.lt(cutoff)))
            .select(messages::id)
            .load(c)?;
        for id in &ids {
            diesel::update(messages::table.find(id))
                .set((
                    messages::status.eq("unknown"),
                    messages::error_detail.eq("the sending process stopped mid-send; awaiting the provider's status"),
                    messages::updated_at.eq(now()),
                ))
                .execute(c)?;
            add_event(c, *id, "unknown", Some("lease expired while sending"))?;
        }
        Ok(ids.len())
    })
}
