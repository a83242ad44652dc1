//! A message's status and the one transition function that decides every change of it, whoever
//! reports it: the outbox (claim, the provider's answer, the lease sweep), a provider's status
//! webhook, the settle sweep for messages in doubt, a campaign's cancel and an owner's resend.
//!
//! The rules:
//! - **Forward only.** `queued → sending → sent → delivered → read`; a provider report may skip
//!   states, and the states it implies are filled into the history (`read` on a `sending` message
//!   records `sent`, `delivered`, `read`). Nothing moves a message back, except an explicit resend of
//!   an `unconfirmed` message and a retry of a definite refusal while it was `sending`.
//! - **The outbox only speaks for its own request.** Its outcomes (accepted, retry, refused, in
//!   doubt) apply only while the message is `sending`, except `accepted`, which also settles a
//!   message in doubt; a provider report that arrived first is never overwritten.
//! - **`failed` from the provider, by its timestamp.** Between a provider's `failed` and its
//!   `delivered`/`read` for the same message, the later provider timestamp wins, whatever order
//!   they arrive in; on a tie `failed` wins. A `failed` after `sent` always wins (`sent` is no proof
//!   of delivery). When `failed` wins, `delivered_at`/`read_at` are cleared and their counts taken
//!   back; when a later delivery overturns a provider's `failed`, its `failed_at`, error and count are
//!   taken back. A failure decided locally (refused before the provider accepted it, cancelled) is
//!   final.
//! - **History only on a real change**; a repeated or stale report changes nothing.
//! - **Errors are cleared on success** (accepted, or reported sent/delivered/read).
//! - **Counted once per transition**: `sent` when a message first reaches the provider (whoever
//!   reports it), `delivered`/`read` when first reached, `failed` when it fails (a cancelled
//!   message, which never reached a provider, is not counted); what a winning report undoes is
//!   counted back.
//! - **In doubt.** `unknown` (the request may have reached the provider) is settled by any later
//!   provider report; after the settle delay it becomes `unconfirmed`, which an owner may resend
//!   (back to `queued`).

use chrono::NaiveDateTime;

/// The history entry of a retry (the message is `queued` again).
pub const RETRY_SCHEDULED: &str = "retry_scheduled";

/// Where a message stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageStatus {
    /// Waiting in the outbox (or claimed by a dispatcher, its request not started).
    Queued,
    /// Its request to the provider is being written or awaited.
    Sending,
    Sent,
    Delivered,
    Read,
    Failed,
    /// The request may have reached the provider (no answer, or the process stopped mid-send);
    /// never sent again automatically, settled by a later status report.
    Unknown,
    /// In doubt for longer than the settle delay without a status report; may be resent by an owner.
    Unconfirmed,
    /// An inbound message.
    Received,
}

impl MessageStatus {
    /// Every status, in the order of the API's documentation.
    pub const ALL: [MessageStatus; 9] = [
        MessageStatus::Queued,
        MessageStatus::Sending,
        MessageStatus::Sent,
        MessageStatus::Delivered,
        MessageStatus::Read,
        MessageStatus::Failed,
        MessageStatus::Unknown,
        MessageStatus::Unconfirmed,
        MessageStatus::Received,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MessageStatus::Queued => "queued",
            MessageStatus::Sending => "sending",
            MessageStatus::Sent => "sent",
            MessageStatus::Delivered => "delivered",
            MessageStatus::Read => "read",
            MessageStatus::Failed => "failed",
            MessageStatus::Unknown => "unknown",
            MessageStatus::Unconfirmed => "unconfirmed",
            MessageStatus::Received => "received",
        }
    }

    /// The stored spelling back; `None` for anything else.
    pub fn parse(s: &str) -> Option<MessageStatus> {
        MessageStatus::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// Position on the delivery path (0 before the provider accepted it).
    fn rank(self) -> u8 {
        match self {
            MessageStatus::Sent => 1,
            MessageStatus::Delivered => 2,
            MessageStatus::Read => 3,
            _ => 0,
        }
    }
}

impl std::fmt::Display for MessageStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A delivery status a provider reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reported {
    Sent,
    Delivered,
    Read,
    Failed,
}

impl Reported {
    /// A provider's status name (`played`, for voice, counts as `read`).
    pub fn parse(s: &str) -> Option<Reported> {
        match s {
            "sent" => Some(Reported::Sent),
            "delivered" => Some(Reported::Delivered),
            "read" | "played" => Some(Reported::Read),
            "failed" => Some(Reported::Failed),
            _ => None,
        }
    }

    fn status(self) -> MessageStatus {
        match self {
            Reported::Sent => MessageStatus::Sent,
            Reported::Delivered => MessageStatus::Delivered,
            Reported::Read => MessageStatus::Read,
            Reported::Failed => MessageStatus::Failed,
        }
    }
}

/// What happened to a message, from whoever reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Event {
    /// The dispatcher is about to write its request (queued → sending).
    Claim,
    /// The provider accepted the request.
    Accepted,
    /// The provider refused it for now (or a limit said wait): back to the queue.
    Retry,
    /// Refused for good before the provider accepted it.
    Refused,
    /// The request may have reached the provider (no answer; the process stopped mid-send).
    InDoubt,
    /// In doubt for longer than the settle delay.
    SettleExpired,
    /// An owner sends an unconfirmed message again.
    Resend,
    /// The message's campaign was cancelled before it was sent.
    Cancel,
    /// A provider's status report with its own timestamp.
    Reported(Reported, NaiveDateTime),
}

/// What the transition function needs of a message.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Current {
    pub status: Option<MessageStatus>,
    pub sent_at: Option<NaiveDateTime>,
    pub delivered_at: Option<NaiveDateTime>,
    pub read_at: Option<NaiveDateTime>,
    pub failed_at: Option<NaiveDateTime>,
    /// The provider knows the message (it has the provider's id): a `failed` then came from it.
    pub at_provider: bool,
}

/// A timestamp column's change.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Stamp {
    #[default]
    Keep,
    Set(NaiveDateTime),
    Clear,
}

/// What happens to the error columns.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ErrorChange {
    #[default]
    Keep,
    /// The event's error is recorded.
    Set,
    Clear,
}

/// Rollup increments of one transition (negative: taken back).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub sent: i64,
    pub delivered: i64,
    pub read: i64,
    pub failed: i64,
}

/// The decided change of one message.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Transition {
    /// The new status; `None` when it stays (timestamps or errors may still change).
    pub to: Option<MessageStatus>,
    /// Entries appended to the history, in order: the statuses passed through, or
    /// `retry_scheduled` for a retry.
    pub history: Vec<&'static str>,
    pub sent_at: Stamp,
    pub delivered_at: Stamp,
    pub read_at: Stamp,
    pub failed_at: Stamp,
    pub error: ErrorChange,
    pub counts: Counts,
}

impl Transition {
    /// Whether anything changes.
    pub fn is_change(&self) -> bool {
        *self != Transition::default()
    }

    fn to(status: MessageStatus) -> Self {
        Transition { to: Some(status), history: vec![status.as_str()], ..Default::default() }
    }
}

/// Decides how `event` changes a message that stands at `cur`; `now` stamps local events.
/// An unchanged message gets `Transition::default()`.
pub fn transition(cur: &Current, event: Event, now: NaiveDateTime) -> Transition {
    use MessageStatus as S;
    let Some(status) = cur.status else { return Transition::default() };
    if status == S::Received {
        return Transition::default();
    }
    match event {
        Event::Claim if status == S::Queued => Transition { to: Some(S::Sending), ..Default::default() },
        Event::Retry if status == S::Sending => Transition {
            to: Some(S::Queued),
            history: vec![RETRY_SCHEDULED],
            error: ErrorChange::Set,
            ..Default::default()
        },
        Event::Refused if status == S::Sending => Transition {
            failed_at: Stamp::Set(now),
            error: ErrorChange::Set,
            counts: Counts { failed: 1, ..Default::default() },
            ..Transition::to(S::Failed)
        },
        Event::InDoubt if status == S::Sending => Transition { error: ErrorChange::Set, ..Transition::to(S::Unknown) },
        Event::SettleExpired if status == S::Unknown => Transition::to(S::Unconfirmed),
        Event::Resend if status == S::Unconfirmed => {
            Transition { error: ErrorChange::Clear, ..Transition::to(S::Queued) }
        }
        // Not counted as a failure: it never reached a provider.
        Event::Cancel if status == S::Queued => {
            Transition { failed_at: Stamp::Set(now), error: ErrorChange::Set, ..Transition::to(S::Failed) }
        }
        Event::Accepted => accepted(cur, status, now),
        Event::Reported(r, at) => reported(cur, status, r, at),
        _ => Transition::default(),
    }
}

/// The provider accepted our request: `sent`, unless a report of it came first.
fn accepted(cur: &Current, status: MessageStatus, now: NaiveDateTime) -> Transition {
    use MessageStatus as S;
    match status {
        S::Sending | S::Unknown | S::Unconfirmed => Transition {
            sent_at: if cur.sent_at.is_none() { Stamp::Set(now) } else { Stamp::Keep },
            error: ErrorChange::Clear,
            counts: Counts { sent: 1, ..Default::default() },
            ..Transition::to(S::Sent)
        },
        // A status report came first: only the missing send time.
        S::Sent | S::Delivered | S::Read if cur.sent_at.is_none() => {
            Transition { sent_at: Stamp::Set(now), ..Default::default() }
        }
        _ => Transition::default(),
    }
}

/// A provider's report, with the states it implies and the timestamp rule for `failed`.
fn reported(cur: &Current, status: MessageStatus, r: Reported, at: NaiveDateTime) -> Transition {
    use MessageStatus as S;
    let before_provider = matches!(status, S::Queued | S::Sending | S::Unknown | S::Unconfirmed);
    if r == Reported::Failed {
        let latest_delivery = cur.read_at.max(cur.delivered_at);
        let wins = match status {
            S::Failed => false,
            S::Delivered | S::Read => latest_delivery.is_none_or(|d| at >= d),
            _ => true,
        };
        if !wins {
            return Transition::default();
        }
        let mut t = Transition {
            failed_at: Stamp::Set(at),
            error: ErrorChange::Set,
            counts: Counts { failed: 1, ..Default::default() },
            ..Transition::to(S::Failed)
        };
        // The provider reporting on it means it accepted it: counted sent, as its answer would have.
        if before_provider {
            t.counts.sent = 1;
            t.sent_at = if cur.sent_at.is_none() { Stamp::Set(at) } else { Stamp::Keep };
        }
        if cur.delivered_at.is_some() {
            t.delivered_at = Stamp::Clear;
            t.counts.delivered = -1;
        }
        if cur.read_at.is_some() {
            t.read_at = Stamp::Clear;
            t.counts.read = -1;
        }
        return t;
    }
    let target = r.status();
    let mut t = Transition::default();
    match status {
        S::Failed if !cur.at_provider => return t,
        // A delivery report later than the provider's failure overturns it.
        S::Failed if r != Reported::Sent && cur.failed_at.is_some_and(|f| at > f) => {
            t.failed_at = Stamp::Clear;
            t.counts.failed = -1;
        }
        S::Failed => return t,
        _ => {}
    }
    let from_rank = if status == S::Failed { 1 } else { status.rank() };
    if target.rank() <= from_rank {
        // A late `delivered` after the `read` that implied it: the earlier, true time.
        if r == Reported::Delivered && cur.delivered_at.is_some_and(|d| at < d) {
            t.delivered_at = Stamp::Set(at);
        }
        return t;
    }
    if before_provider {
        t.counts.sent = 1;
        if cur.sent_at.is_none() {
            t.sent_at = Stamp::Set(at);
        }
    }
    for step in [S::Sent, S::Delivered, S::Read] {
        if step.rank() <= from_rank || step.rank() > target.rank() {
            continue;
        }
        t.history.push(step.as_str());
        match step {
            S::Delivered if cur.delivered_at.is_none() => {
                t.delivered_at = Stamp::Set(at);
                t.counts.delivered = 1;
            }
            S::Read if cur.read_at.is_none() => {
                t.read_at = Stamp::Set(at);
                t.counts.read = 1;
            }
            _ => {}
        }
    }
    t.to = Some(target);
    t.error = ErrorChange::Clear;
    t
}

#[cfg(test)]
#[path = "message_status_tests.rs"]
mod tests;
