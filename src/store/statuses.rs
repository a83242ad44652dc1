//! Applying provider status events to messages: forward only (sent < delivered < read), whatever
//! order they arrive in; `failed` keeps its error; each timestamp is set once, from the event.

use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::messages;
use crate::domain::TenantId;
use crate::store::messages::{Message, add_event};
use crate::store::usage;

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

/// Applies one event; returns whether the message changed. Call in a write transaction.
pub fn apply(conn: &mut DbConn, e: &StatusEvent) -> QueryResult<bool> {
    let Some(m) = find(conn, e)? else { return Ok(false) };
    let current = rank(&m.status);
    let moves = match e.status {
        Status::Failed => current <= 1,
        s => current != 4 && rank(s.as_str()) > current,
    };
    let mut counts = usage::Counts::default();
    let mut changed = false;
    if m.provider_message_id.is_none() {
        diesel::update(messages::table.find(m.id))
            .set(messages::provider_message_id.eq(&e.provider_message_id))
            .execute(conn)?;
        changed = true;
    }
    if let Some(p) = e.pricing.as_ref().filter(|_| m.pricing_category.is_none()) {
        record_pricing(conn, &m, p, e.at.date())?;
        changed = true;
    }
    let target = messages::table.find(m.id);
    let stamped = match e.status {
        Status::Sent if m.sent_at.is_none() => diesel::update(target).set(messages::sent_at.eq(e.at)).execute(conn)?,
        Status::Delivered if m.delivered_at.is_none() => {
            counts.delivered = 1;
            diesel::update(target).set(messages::delivered_at.eq(e.at)).execute(conn)?
        }
        Status::Read if m.read_at.is_none() => {
            counts.read = 1;
            diesel::update(target).set(messages::read_at.eq(e.at)).execute(conn)?
        }
        Status::Failed if moves => {
            counts.failed = 1;
            diesel::update(target).set(messages::failed_at.eq(e.at)).execute(conn)?
        }
        _ => 0,
    };
    changed |= stamped > 0;
    if moves {
        diesel::update(messages::table.find(m.id))
            .set((messages::status.eq(e.status.as_str()), messages::updated_at.eq(crate::db::now())))
            .execute(conn)?;
        if e.status == Status::Failed {
            diesel::update(messages::table.find(m.id))
                .set((
                    messages::error_code.eq(&e.error_code),
                    messages::error_title.eq(&e.error_title),
                    messages::error_detail.eq(&e.error_detail),
                ))
                .execute(conn)?;
        }
        if m.status == "unknown" && e.status != Status::Failed {
            counts.sent = 1;
        }
        add_event(conn, m.id, e.status.as_str(), e.error_detail.as_deref())?;
        crate::relay::message_status(conn, TenantId(m.tenant_id), m.id)?;
        changed = true;
    }
    if counts != usage::Counts::default() {
        usage::add(conn, m.tenant_id, m.account_id, e.at.date(), counts)?;
        if let Some(name) = &m.template_name {
            usage::add_template(conn, m.tenant_id, m.account_id, e.at.date(), name, counts)?;
        }
        if counts.failed > 0 {
            let code = e.error_code.as_deref().or(e.error_title.as_deref()).unwrap_or("unknown");
            usage::add_failure(conn, m.tenant_id, m.account_id, e.at.date(), code, 1)?;
        }
    }
    Ok(changed)
}

/// Keeps a message's pricing (the first report only: Meta repeats it on later statuses and may
/// deliver a status twice) and counts it in the account's billable day when billable.
fn record_pricing(conn: &mut DbConn, m: &Message, p: &Pricing, day: chrono::NaiveDate) -> QueryResult<()> {
    diesel::update(messages::table.find(m.id))
        .set((
            messages::pricing_category.eq(&p.category),
            messages::pricing_type.eq(&p.pricing_type),
            messages::pricing_model.eq(&p.model),
            messages::billable.eq(p.billable),
        ))
        .execute(conn)?;
    if p.billable {
        usage::add_billable(conn, m.tenant_id, m.account_id, day, &p.category)?;
    }
    Ok(())
}
