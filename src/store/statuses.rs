//! Applying provider status events to messages: forward only (sent < delivered < read), whatever
//! order they arrive in; `failed` keeps its error; each timestamp is set once, from the event.

use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::messages;
use crate::domain::TenantId;
use crate::relay::StatusSubscribers;
use crate::store::messages::{Message, add_event};
use crate::store::usage::{self, Tally};

/// A delivery status reported by a provider.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Sent,
    Delivered,
    Read,
    Failed,
}

impl Status {
    pub fn parse(s: &str) -> Option<Status> {
        match s {
            "sent" => Some(Status::Sent),
            "delivered" => Some(Status::Delivered),
            "read" | "played" => Some(Status::Read),
            "failed" => Some(Status::Failed),
            _ => None,
        }
    }
    fn as_str(self) -> &'static str {
        match self {
            Status::Sent => "sent",
            Status::Delivered => "delivered",
            Status::Read => "read",
            Status::Failed => "failed",
        }
    }
}

/// Position in the forward order; `failed` may only replace states before `delivered`.
fn rank(status: &str) -> u8 {
    match status {
        "sent" => 1,
        "delivered" => 2,
        "read" => 3,
        "failed" => 4,
        _ => 0,
    }
}

/// One status event for one message.
#[derive(Clone, Debug)]
pub struct StatusEvent {
    /// The provider's message id.
    pub provider_message_id: String,
    /// Our message id, from the callback data, when the provider echoed it.
    pub our_id: Option<i64>,
    /// Only messages of this account match (a webhook speaks for one account).
    pub account_id: Option<i64>,
    pub status: Status,
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

/// The columns one event changes on its message; `None` leaves a column as it is.
#[derive(AsChangeset, Default, PartialEq)]
#[diesel(table_name = messages)]
struct Change<'a> {
    provider_message_id: Option<&'a str>,
    pricing_category: Option<&'a str>,
    pricing_type: Option<Option<&'a str>>,
    pricing_model: Option<Option<&'a str>>,
    billable: Option<bool>,
    sent_at: Option<chrono::NaiveDateTime>,
    delivered_at: Option<chrono::NaiveDateTime>,
    read_at: Option<chrono::NaiveDateTime>,
    failed_at: Option<chrono::NaiveDateTime>,
    status: Option<&'a str>,
    error_code: Option<Option<&'a str>>,
    error_title: Option<Option<&'a str>>,
    error_detail: Option<Option<&'a str>>,
    updated_at: Option<chrono::NaiveDateTime>,
}

/// Applies one event in one update of its message; returns whether the message changed. Emits
/// `message.status` to `subscribers` when the status moved; counts deliveries, reads, failures
/// and billable messages in `usage` (the caller writes it). Call in a write transaction.
pub fn apply(
    conn: &mut DbConn,
    subscribers: &mut StatusSubscribers,
    usage: &mut Tally,
    e: &StatusEvent,
) -> QueryResult<bool> {
    let Some(m) = find(conn, e)? else { return Ok(false) };
    let current = rank(&m.status);
    let moves = match e.status {
        Status::Failed => current <= 1,
        s => current != 4 && rank(s.as_str()) > current,
    };
    let mut counts = usage::Counts::default();
    let mut change = Change::default();
    if m.provider_message_id.is_none() {
        change.provider_message_id = Some(&e.provider_message_id);
    }
    // The first pricing report only: Meta repeats it on later statuses and may deliver one twice.
    if let Some(p) = e.pricing.as_ref().filter(|_| m.pricing_category.is_none()) {
        change.pricing_category = Some(&p.category);
        change.pricing_type = Some(p.pricing_type.as_deref());
        change.pricing_model = Some(p.model.as_deref());
        change.billable = Some(p.billable);
        if p.billable {
            usage.add_billable(m.tenant_id, m.account_id, e.at.date(), &p.category);
        }
    }
    match e.status {
        Status::Sent if m.sent_at.is_none() => change.sent_at = Some(e.at),
        Status::Delivered if m.delivered_at.is_none() => {
            counts.delivered = 1;
            change.delivered_at = Some(e.at);
        }
        Status::Read if m.read_at.is_none() => {
            counts.read = 1;
            change.read_at = Some(e.at);
        }
        Status::Failed if moves => {
            counts.failed = 1;
            change.failed_at = Some(e.at);
        }
        _ => {}
    }
    if moves {
        change.status = Some(e.status.as_str());
        change.updated_at = Some(crate::db::now());
        if e.status == Status::Failed {
            change.error_code = Some(e.error_code.as_deref());
            change.error_title = Some(e.error_title.as_deref());
            change.error_detail = Some(e.error_detail.as_deref());
        }
        if m.status == "unknown" && e.status != Status::Failed {
            counts.sent = 1;
        }
    }
    let changed = change != Change::default();
    if changed {
        diesel::update(messages::table.find(m.id)).set(&change).execute(conn)?;
    }
    if moves {
        add_event(conn, m.id, e.status.as_str(), e.error_detail.as_deref())?;
        subscribers.emit(conn, TenantId(m.tenant_id), m.id)?;
    }
    if counts != usage::Counts::default() {
        usage.add(m.tenant_id, m.account_id, e.at.date(), counts);
        if let Some(name) = &m.template_name {
            usage.add_template(m.tenant_id, m.account_id, e.at.date(), name, counts);
        }
        if counts.failed > 0 {
            let code = e.error_code.as_deref().or(e.error_title.as_deref()).unwrap_or("unknown");
            usage.add_failure(m.tenant_id, m.account_id, e.at.date(), code, 1);
        }
    }
    Ok(changed)
}
