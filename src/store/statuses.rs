//! Changing a message's status: every change is decided by
//! [`message_status::transition`](crate::domain::message_status::transition) and written here by
//! [`write`] (one update of the message, its history rows, its counts in the
//! batch's tally, `message.status` when the status moved). [`apply`] applies a provider's status
//! report.

use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::messages;
use crate::domain::TenantId;
use crate::domain::message_status::{
    Current, ErrorChange, Event, MessageStatus, Reported, Stamp, Transition, transition,
};
use crate::relay::StatusSubscribers;
use crate::store::messages::{Message, add_event};
use crate::store::usage::{self, Tally};

/// One status event for one message.
#[derive(Clone, Debug)]
pub struct StatusEvent {
    /// The provider's message id.
    pub provider_message_id: String,
    /// Our message id, from the callback data, when the provider echoed it.
    pub our_id: Option<i64>,
    /// Only messages of this account match (a webhook speaks for one account).
    pub account_id: Option<i64>,
    pub status: Reported,
    pub at: chrono::NaiveDateTime,
    pub error_code: Option<String>,
    pub error_title: Option<String>,
    pub error_detail: Option<String>,
    /// What the provider will charge for the message, when the event says (Meta: with `sent` and
    /// one of `delivered`/`read`).
    pub pricing: Option<Pricing>,
}

/// A status event's `pricing` block.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Pricing {
    /// `marketing`, `utility`, `authentication`, `service`, …
    pub category: String,
    /// `regular`, `free_customer_service` or `free_entry_point`.
    pub pricing_type: Option<String>,
    /// `PMP` (per message) or `CBP` (per conversation, before July 2025).
    pub model: Option<String>,
    pub billable: bool,
}

/// Finds the message by our id (reconciling `unknown` ones) or by the provider's id.
fn find(conn: &mut DbConn, e: &StatusEvent) -> QueryResult<Option<Message>> {
    let in_scope = |m: &Message| e.account_id.is_none_or(|a| a == m.account_id);
    if let Some(id) = e.our_id {
        let m = messages::table.find(id).select(Message::as_select()).first(conn).optional()?.filter(in_scope);
        if m.as_ref().is_some_and(|m| m.provider_message_id.as_deref().is_none_or(|p| p == e.provider_message_id)) {
            return Ok(m);
        }
    }
    let m = messages::table
        .filter(messages::provider_message_id.eq(&e.provider_message_id))
        .select(Message::as_select())
        .first(conn)
        .optional()?;
    Ok(m.filter(in_scope))
}

/// The columns one change writes on its message; `None` leaves a column as it is.
#[derive(AsChangeset, Clone, Copy, Default, PartialEq)]
#[diesel(table_name = messages)]
pub struct Change<'a> {
    pub provider_message_id: Option<&'a str>,
    pub pricing_category: Option<&'a str>,
    pub pricing_type: Option<Option<&'a str>>,
    pub pricing_model: Option<Option<&'a str>>,
    pub billable: Option<bool>,
    pub sent_at: Option<Option<chrono::NaiveDateTime>>,
    pub delivered_at: Option<Option<chrono::NaiveDateTime>>,
    pub read_at: Option<Option<chrono::NaiveDateTime>>,
    pub failed_at: Option<Option<chrono::NaiveDateTime>>,
    pub status: Option<&'a str>,
    pub error_code: Option<Option<&'a str>>,
    pub error_title: Option<Option<&'a str>>,
    pub error_detail: Option<Option<&'a str>>,
    pub next_attempt_at: Option<chrono::NaiveDateTime>,
    pub attempts: Option<i32>,
    pub updated_at: Option<chrono::NaiveDateTime>,
}

/// The error an event carries (recorded when its transition sets the error).
#[derive(Clone, Copy, Debug, Default)]
pub struct ErrorInfo<'a> {
    pub code: Option<&'a str>,
    pub title: Option<&'a str>,
    pub detail: Option<&'a str>,
}

/// What the transition function needs of a stored message.
pub fn current(m: &Message) -> Current {
    Current {
        status: MessageStatus::parse(&m.status),
        sent_at: m.sent_at,
        delivered_at: m.delivered_at,
        read_at: m.read_at,
        failed_at: m.failed_at,
        at_provider: m.provider_message_id.is_some(),
    }
}

fn stamp(s: Stamp) -> Option<Option<chrono::NaiveDateTime>> {
    match s {
        Stamp::Keep => None,
        Stamp::Set(t) => Some(Some(t)),
        Stamp::Clear => Some(None),
    }
}

/// Where a change is recorded besides the message: its counts and its `message.status` event.
pub struct Sinks<'s> {
    pub subscribers: &'s mut StatusSubscribers,
    pub usage: &'s mut Tally,
}

/// Decides `event` for `m` and writes it with the columns of `extra` (a provider id, pricing, a
/// retry time…): one update when anything changes, the history rows (with
/// `detail`), its counts on the report's day (else today), and `message.status` when the status moved. Updates `m` to
/// what was written; returns the transition. Call in a write transaction.
pub fn write(
    conn: &mut DbConn,
    sinks: &mut Sinks<'_>,
    m: &mut Message,
    event: Event,
    error: ErrorInfo<'_>,
    detail: Option<&str>,
    extra: Change<'_>,
) -> QueryResult<Transition> {
    let ts = crate::db::now();
    let t = transition(&current(m), event, ts);
    let mut change = extra;
    change.status = t.to.map(MessageStatus::as_str);
    change.sent_at = stamp(t.sent_at);
    change.delivered_at = stamp(t.delivered_at);
    change.read_at = stamp(t.read_at);
    change.failed_at = stamp(t.failed_at);
    match t.error {
        ErrorChange::Keep => {}
        ErrorChange::Set => {
            change.error_code = Some(error.code);
            change.error_title = Some(error.title);
            change.error_detail = Some(error.detail);
        }
        ErrorChange::Clear => {
            (change.error_code, change.error_title, change.error_detail) = (Some(None), Some(None), Some(None))
        }
    }
    if change == Change::default() {
        return Ok(t);
    }
    change.updated_at = Some(ts);
    diesel::update(messages::table.find(m.id)).set(&change).execute(conn)?;
    // Usually one row; a report that implies skipped states adds them too.
    for status in &t.history {
        add_event(conn, m.id, status, detail)?;
    }
    let taken_back = (t.counts.failed < 0).then(|| m.error_code.clone().or(m.error_title.clone()));
    remember(m, &change);
    if t.to.is_some() {
        sinks.subscribers.emit(conn, TenantId(m.tenant_id), m.id)?;
    }
    let day = match event {
        Event::Reported(_, at) => at.date(),
        _ => ts.date(),
    };
    count(sinks.usage, m, &t, error, taken_back.flatten(), day);
    Ok(t)
}

/// Decides `event` for each of `rows` and writes it as [`write`] does, with the same error,
/// detail and `extra` columns for every row, then writes the counts; returns the ids whose status
/// moved. Call in a write transaction.
pub fn write_all(
    conn: &mut DbConn,
    rows: Vec<Message>,
    event: Event,
    error: ErrorInfo<'_>,
    detail: Option<&str>,
    extra: Change<'_>,
) -> QueryResult<Vec<i64>> {
    let (mut usage, mut subscribers) = (Tally::default(), StatusSubscribers::default());
    let mut sinks = Sinks { subscribers: &mut subscribers, usage: &mut usage };
    let mut moved = Vec::new();
    for mut m in rows {
        if write(conn, &mut sinks, &mut m, event, error, detail, extra)?.to.is_some() {
            moved.push(m.id);
        }
    }
    usage.write(conn)?;
    Ok(moved)
}

/// Keeps the in-memory row as written, so a later event of the same batch sees it.
fn remember(m: &mut Message, c: &Change<'_>) {
    if let Some(s) = c.status {
        m.status = s.to_string();
    }
    if let Some(p) = c.provider_message_id {
        m.provider_message_id = Some(p.to_string());
    }
    let set = |col: &mut Option<chrono::NaiveDateTime>, v: Option<Option<chrono::NaiveDateTime>>| {
        if let Some(v) = v {
            *col = v;
        }
    };
    set(&mut m.sent_at, c.sent_at);
    set(&mut m.delivered_at, c.delivered_at);
    set(&mut m.read_at, c.read_at);
    set(&mut m.failed_at, c.failed_at);
    let text = |col: &mut Option<String>, v: Option<Option<&str>>| {
        if let Some(v) = v {
            *col = v.map(str::to_string);
        }
    };
    text(&mut m.error_code, c.error_code);
    text(&mut m.error_title, c.error_title);
    text(&mut m.error_detail, c.error_detail);
    if let Some(a) = c.attempts {
        m.attempts = a;
    }
}

/// Adds a transition's counts to the tally: the account's day, the template's, and the failure
/// code (taken back with the code stored before, when a delivery overturned a failure).
fn count(
    usage: &mut Tally,
    m: &Message,
    t: &Transition,
    error: ErrorInfo<'_>,
    taken_back: Option<String>,
    day: chrono::NaiveDate,
) {
    let c = t.counts;
    let counts = usage::Counts { sent: c.sent, delivered: c.delivered, read: c.read, failed: c.failed, inbound: 0 };
    if counts == usage::Counts::default() {
        return;
    }
    usage.add(m.tenant_id, m.account_id, day, counts);
    if let Some(name) = &m.template_name {
        usage.add_template(m.tenant_id, m.account_id, day, name, counts);
    }
    if c.failed > 0 {
        let code = error.code.or(error.title).unwrap_or("unknown");
        usage.add_failure(m.tenant_id, m.account_id, day, code, 1);
    } else if c.failed < 0 {
        usage.add_failure(m.tenant_id, m.account_id, day, taken_back.as_deref().unwrap_or("unknown"), -1);
    }
}

/// Applies one provider report to its message; returns whether the message changed. Emits
/// `message.status` to `subscribers` when the status moved; counts deliveries, reads, failures
/// and billable messages in `usage` (the caller writes it). Call in a write transaction.
pub fn apply(
    conn: &mut DbConn,
    subscribers: &mut StatusSubscribers,
    usage: &mut Tally,
    e: &StatusEvent,
) -> QueryResult<bool> {
    let Some(mut m) = find(conn, e)? else { return Ok(false) };
    let mut extra = Change::default();
    if m.provider_message_id.is_none() {
        extra.provider_message_id = Some(&e.provider_message_id);
    }
    // The first pricing report only: Meta repeats it on later statuses and may deliver one twice.
    if let Some(p) = e.pricing.as_ref().filter(|_| m.pricing_category.is_none()) {
        extra.pricing_category = Some(&p.category);
        extra.pricing_type = Some(p.pricing_type.as_deref());
        extra.pricing_model = Some(p.model.as_deref());
        extra.billable = Some(p.billable);
        if p.billable {
            usage.add_billable(m.tenant_id, m.account_id, e.at.date(), &p.category);
        }
    }
    let extra_changes = extra != Change::default();
    let error =
        ErrorInfo { code: e.error_code.as_deref(), title: e.error_title.as_deref(), detail: e.error_detail.as_deref() };
    let mut sinks = Sinks { subscribers, usage };
    let t = write(conn, &mut sinks, &mut m, Event::Reported(e.status, e.at), error, e.error_detail.as_deref(), extra)?;
    Ok(extra_changes || t.is_change())
}
