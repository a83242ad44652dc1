//! Recording dispatch outcomes in batches, and the sweeps of messages whose send is in doubt.
//! Every change of status goes through [`statuses::write`] (the one transition function).

use std::collections::HashMap;

use diesel::prelude::*;

use crate::db::schema::{accounts, messages};
use crate::db::{DbConn, now, write_tx};
use crate::domain::message_status::{Event, MessageStatus};
use crate::relay;
use crate::store::messages::{Message, add_event};
use crate::store::statuses::{self, Change, ErrorInfo, Sinks};
use crate::store::usage;

/// What happened to one claimed message.
#[derive(Clone, Debug)]
pub enum Outcome {
    /// The provider accepted it.
    Sent { id: i64, provider_message_id: String },
    /// A definite, retryable refusal: try again at `at`.
    Retry { id: i64, at: chrono::NaiveDateTime, code: Option<String>, detail: String },
    /// Not sent, and not worth retrying.
    Failed { id: i64, code: Option<String>, title: String, detail: String },
    /// It may or may not have reached the provider; never resent, reconciled by status webhooks.
    Unknown { id: i64, detail: String },
    /// Not attempted (a limit said wait): back to the queue.
    Requeue { id: i64, at: chrono::NaiveDateTime, reason: String },
    /// The credentials were refused: the message waits (without using an attempt) and the
    /// account needs new credentials.
    Reauth { id: i64, account: i64, at: chrono::NaiveDateTime, detail: String },
    /// A delivery status reported for a sent message (the sandbox's simulated webhooks).
    Status(crate::store::statuses::StatusEvent),
}

impl Outcome {
    /// The message an outcome of the dispatcher's own request is about.
    fn own_message(&self) -> Option<i64> {
        match self {
            Outcome::Sent { id, .. }
            | Outcome::Retry { id, .. }
            | Outcome::Failed { id, .. }
            | Outcome::Unknown { id, .. }
            | Outcome::Reauth { id, .. } => Some(*id),
            Outcome::Requeue { .. } | Outcome::Status(_) => None,
        }
    }
}

/// Applies a batch of outcomes in one write transaction: the messages are read in one query,
/// then each outcome is decided by the transition function against the message as it stands.
pub fn apply(conn: &mut DbConn, outcomes: &[Outcome]) -> QueryResult<()> {
    write_tx(conn, |c| {
        let ids: Vec<i64> = outcomes.iter().filter_map(Outcome::own_message).collect();
        let mut rows: HashMap<i64, Message> = messages::table
            .filter(messages::id.eq_any(&ids))
            .select(Message::as_select())
            .load(c)?
            .into_iter()
            .map(|m| (m.id, m))
            .collect();
        let mut usage = usage::Tally::default();
        let mut subscribers = relay::StatusSubscribers::default();
        for o in outcomes {
            if let Outcome::Requeue { id, at, reason } = o {
                requeue(c, *id, *at, reason)?;
                continue;
            }
            if let Outcome::Status(event) = o {
                statuses::apply(c, &mut subscribers, &mut usage, event)?;
                if let Some(id) = event.our_id {
                    rows.remove(&id);
                }
                continue;
            }
            let Some(m) = o.own_message().and_then(|id| rows.get_mut(&id)) else { continue };
            let sinks = &mut Sinks { subscribers: &mut subscribers, usage: &mut usage };
            record(c, sinks, m, o)?;
        }
        usage.write(c)
    })
}

/// Records the outcome of the dispatcher's own request for `m`.
fn record(c: &mut DbConn, sinks: &mut Sinks<'_>, m: &mut Message, o: &Outcome) -> QueryResult<()> {
    match o {
        Outcome::Sent { provider_message_id, .. } => {
            // A status report may have brought the provider's id first.
            let extra = Change {
                provider_message_id: m.provider_message_id.is_none().then_some(provider_message_id.as_str()),
                ..Default::default()
            };
            statuses::write(c, sinks, m, Event::Accepted, ErrorInfo::default(), None, extra)?;
        }
        Outcome::Retry { at, code, detail, .. } => {
            let error = ErrorInfo { code: code.as_deref(), title: None, detail: Some(detail) };
            let extra = Change { next_attempt_at: Some(*at), ..Default::default() };
            statuses::write(c, sinks, m, Event::Retry, error, Some(detail), extra)?;
        }
        Outcome::Reauth { account, at, detail, .. } => {
            let extra = Change { next_attempt_at: Some(*at), attempts: Some(m.attempts - 1), ..Default::default() };
            let t = statuses::write(c, sinks, m, Event::Retry, ErrorInfo::default(), Some(detail), extra)?;
            if t.to.is_some() {
                diesel::update(accounts::table.find(account))
                    .set((accounts::status.eq("needs_reauth"), accounts::updated_at.eq(now())))
                    .execute(c)?;
            }
        }
        Outcome::Failed { code, title, detail, .. } => {
            let error = ErrorInfo { code: code.as_deref(), title: Some(title), detail: Some(detail) };
            let t = statuses::write(c, sinks, m, Event::Refused, error, Some(detail), Change::default())?;
            if t.to == Some(MessageStatus::Failed) {
                crate::campaigns::control::on_message_failed(c, m.id, title, detail)?;
            }
        }
        Outcome::Unknown { detail, .. } => {
            let error = ErrorInfo { detail: Some(detail), ..Default::default() };
            statuses::write(c, sinks, m, Event::InDoubt, error, Some(detail), Change::default())?;
        }
        Outcome::Requeue { .. } | Outcome::Status(_) => {}
    }
    Ok(())
}

/// A claimed message a limit held back (its request never started): due again at `at`.
fn requeue(c: &mut DbConn, id: i64, at: chrono::NaiveDateTime, reason: &str) -> QueryResult<()> {
    let queued = MessageStatus::Queued.as_str();
    diesel::update(messages::table.find(id).filter(messages::status.eq(queued)))
        .set((
            messages::next_attempt_at.eq(at),
            messages::claimed_by.eq(None::<String>),
            messages::updated_at.eq(now()),
        ))
        .execute(c)?;
    add_event(c, id, "waiting", Some(reason))
}

/// Applies a local event, through the transition function, to up to 1,000 messages of `status`
/// claimed (`by_claim`) or last updated before the cutoff; returns how many changed.
fn sweep(
    conn: &mut DbConn,
    status: MessageStatus,
    before: (chrono::NaiveDateTime, bool),
    event: Event,
    detail: &str,
) -> QueryResult<usize> {
    write_tx(conn, |c| {
        let (cutoff, by_claim) = before;
        let mut q =
            messages::table.filter(messages::status.eq(status.as_str())).select(Message::as_select()).into_boxed();
        q = if by_claim {
            q.filter(messages::claimed_at.lt(cutoff))
        } else {
            q.filter(messages::updated_at.lt(cutoff))
        };
        let rows = q.limit(1000).load(c)?;
        let error = ErrorInfo { detail: Some(detail), ..Default::default() };
        Ok(statuses::write_all(c, rows, event, error, Some(detail), Change::default())?.len())
    })
}

/// Marks messages left in `sending` past the lease (their process died mid-send, after their
/// request started) as `unknown`: they may have reached the provider, so they are never sent
/// again automatically.
pub fn expire_leases(conn: &mut DbConn, lease: chrono::Duration) -> QueryResult<usize> {
    let detail = "the sending process stopped mid-send; awaiting the provider's status";
    sweep(conn, MessageStatus::Sending, (now() - lease, true), Event::InDoubt, detail)
}

/// Marks messages `unknown` for longer than `settle` with no status report as `unconfirmed`
/// (an owner may resend them).
pub fn settle_unknown(conn: &mut DbConn, settle: chrono::Duration) -> QueryResult<usize> {
    let detail = "no status from the provider within UNKNOWN_SETTLE_SECS; it may not have been sent";
    sweep(conn, MessageStatus::Unknown, (now() - settle, false), Event::SettleExpired, detail)
}

/// Which unconfirmed messages an owner resends.
#[derive(Clone, Copy, Debug)]
pub enum Resend {
    Message(i64),
    Campaign(i64),
}

/// Sends a tenant's `unconfirmed` messages again at an owner's request: each goes back to
/// `queued`, due at `at`, with a history entry saying who asked; returns the ids resent.
pub fn resend(
    conn: &mut DbConn,
    tenant: crate::domain::TenantId,
    which: Resend,
    by: &str,
    at: chrono::NaiveDateTime,
) -> QueryResult<Vec<i64>> {
    write_tx(conn, |c| {
        let mut q = messages::table
            .filter(messages::tenant_id.eq(tenant.0).and(messages::status.eq(MessageStatus::Unconfirmed.as_str())))
            .select(Message::as_select())
            .into_boxed();
        q = match which {
            Resend::Message(id) => q.filter(messages::id.eq(id)),
            Resend::Campaign(id) => q.filter(messages::campaign_id.eq(id)),
        };
        let rows = q.load(c)?;
        let detail = format!("resent by {by}");
        let extra = Change { next_attempt_at: Some(at), ..Default::default() };
        statuses::write_all(c, rows, Event::Resend, ErrorInfo::default(), Some(&detail), extra)
    })
}
