//! Received webhook bodies, stored before they are acknowledged and applied afterwards.

use diesel::prelude::*;

use crate::db::schema::webhook_events;
use crate::db::{DbConn, now};
use crate::domain::TenantId;
use crate::pagination::Page;

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = webhook_events)]
pub struct WebhookEvent {
    pub id: i64,
    pub tenant_id: Option<i64>,
    pub account_id: Option<i64>,
    pub provider: String,
    pub kind: String,
    pub dedupe_key: String,
    pub signature_valid: bool,
    pub quarantined: bool,
    pub payload: String,
    pub received_at: chrono::NaiveDateTime,
    pub claimed_at: Option<chrono::NaiveDateTime>,
    pub processed_at: Option<chrono::NaiveDateTime>,
    pub process_error: Option<String>,
    pub attempts: i32,
}

/// A received body to store.
#[derive(Insertable)]
#[diesel(table_name = webhook_events)]
pub struct NewEvent {
    pub tenant_id: Option<i64>,
    pub account_id: Option<i64>,
    pub provider: String,
    pub kind: String,
    pub dedupe_key: String,
    pub signature_valid: bool,
    pub quarantined: bool,
    pub payload: String,
    pub received_at: chrono::NaiveDateTime,
}

/// Stores events in the caller's transaction, skipping those whose dedupe key is already stored
/// (redeliveries); returns the (dedupe key, id) of every new row. The keys must be distinct.
/// PostgreSQL takes them in one multi-row statement; SQLite (no network round trip) row by row.
pub fn insert_many(conn: &mut DbConn, new: &[&NewEvent]) -> QueryResult<Vec<(String, i64)>> {
    let columns = (webhook_events::dedupe_key, webhook_events::id);
    match conn {
        DbConn::Pg(c) => new
            .chunks(PG_ROWS_PER_STATEMENT)
            .map(|rows| {
                diesel::insert_into(webhook_events::table)
                    .values(rows.to_vec())
                    .on_conflict(webhook_events::dedupe_key)
                    .do_nothing()
                    .returning(columns)
                    .get_results(c)
            })
            .collect::<QueryResult<Vec<Vec<_>>>>()
            .map(|parts| parts.concat()),
        DbConn::Sqlite(c) => new
            .iter()
            .filter_map(|row| {
                diesel::insert_into(webhook_events::table)
                    .values(*row)
                    .on_conflict(webhook_events::dedupe_key)
                    .do_nothing()
                    .returning(columns)
                    .get_result(c)
                    .optional()
                    .transpose()
            })
            .collect(),
    }
}

/// Rows per PostgreSQL insert: nine binds each, under its 65,535 bind parameters.
const PG_ROWS_PER_STATEMENT: usize = 4096;

/// Filters of a tenant's (or, for platform admins, every) event list.
#[derive(Debug, Default)]
pub struct ListFilter {
    pub account_id: Option<i64>,
    pub kind: Option<String>,
    pub processed: Option<bool>,
    pub signature_valid: Option<bool>,
    pub quarantined: Option<bool>,
    pub from: Option<chrono::NaiveDateTime>,
    pub to: Option<chrono::NaiveDateTime>,
}

/// Events newest first; scoped to `tenant` when given (platform admins pass `None`).
pub fn list(conn: &mut DbConn, tenant: Option<TenantId>, f: &ListFilter, page: Page) -> QueryResult<Vec<WebhookEvent>> {
    let mut q = webhook_events::table
        .select(WebhookEvent::as_select())
        .order(webhook_events::id.desc())
        .limit(page.limit + 1)
        .into_boxed();
    if let Some(t) = tenant {
        q = q.filter(webhook_events::tenant_id.eq(t.0));
    }
    if let Some(before) = page.before {
        q = q.filter(webhook_events::id.lt(before));
    }
    if let Some(v) = f.account_id {
        q = q.filter(webhook_events::account_id.eq(v));
    }
    if let Some(v) = &f.kind {
        q = q.filter(webhook_events::kind.eq(v.clone()));
    }
    match f.processed {
        Some(true) => q = q.filter(webhook_events::processed_at.is_not_null()),
        Some(false) => q = q.filter(webhook_events::processed_at.is_null()),
        None => {}
    }
    if let Some(v) = f.signature_valid {
        q = q.filter(webhook_events::signature_valid.eq(v));
    }
    if let Some(v) = f.quarantined {
        q = q.filter(webhook_events::quarantined.eq(v));
    }
    if let Some(v) = f.from {
        q = q.filter(webhook_events::received_at.ge(v));
    }
    if let Some(v) = f.to {
        q = q.filter(webhook_events::received_at.lt(v));
    }
    q.load(conn)
}

pub fn get(conn: &mut DbConn, tenant: TenantId, id: i64) -> QueryResult<Option<WebhookEvent>> {
    webhook_events::table
        .filter(webhook_events::tenant_id.eq(tenant.0))
        .find(id)
        .select(WebhookEvent::as_select())
        .first(conn)
        .optional()
}

/// How long a claim holds: an event whose process died while applying it is taken again after.
const LEASE_SECS: i64 = 60;

/// Ids of events waiting to be applied and not held by a live claim, oldest first (quarantined
/// ones never are).
pub fn pending(conn: &mut DbConn, limit: i64) -> QueryResult<Vec<i64>> {
    let expired = now() - chrono::Duration::seconds(LEASE_SECS);
    webhook_events::table
        .filter(webhook_events::processed_at.is_null().and(webhook_events::quarantined.eq(false)))
        .filter(webhook_events::claimed_at.is_null().or(webhook_events::claimed_at.lt(expired)))
        .order(webhook_events::id.asc())
        .limit(limit)
        .select(webhook_events::id)
        .load(conn)
}

/// Takes a waiting event for this process and counts the attempt, so no other process applies
/// it at the same time. `None` when another process holds it or it was applied meanwhile.
pub fn claim(conn: &mut DbConn, id: i64) -> QueryResult<Option<WebhookEvent>> {
    let ts = now();
    let expired = ts - chrono::Duration::seconds(LEASE_SECS);
    let taken = diesel::update(
        webhook_events::table
            .find(id)
            .filter(webhook_events::processed_at.is_null().and(webhook_events::quarantined.eq(false)))
            .filter(webhook_events::claimed_at.is_null().or(webhook_events::claimed_at.lt(expired))),
    )
    .set((webhook_events::claimed_at.eq(ts), webhook_events::attempts.eq(webhook_events::attempts + 1)))
    .execute(conn)?;
    if taken == 0 {
        return Ok(None);
    }
    webhook_events::table.find(id).select(WebhookEvent::as_select()).first(conn).optional()
}

/// Marks an event applied, with what failed (`None` when every change applied).
pub fn finish(conn: &mut DbConn, id: i64, error: Option<&str>) -> QueryResult<()> {
    diesel::update(webhook_events::table.find(id))
        .set((webhook_events::processed_at.eq(now()), webhook_events::process_error.eq(error)))
        .execute(conn)
        .map(|_| ())
}

/// Takes a tenant's event again to re-apply it now, whatever its state; `None` when it is not
/// the tenant's or it is quarantined.
pub fn reclaim(conn: &mut DbConn, tenant: TenantId, id: i64) -> QueryResult<Option<WebhookEvent>> {
    let target = webhook_events::table
        .filter(webhook_events::tenant_id.eq(tenant.0).and(webhook_events::quarantined.eq(false)))
        .find(id);
    let taken = diesel::update(target)
        .set((
            webhook_events::claimed_at.eq(now()),
            webhook_events::processed_at.eq(None::<chrono::NaiveDateTime>),
            webhook_events::process_error.eq(None::<String>),
            webhook_events::attempts.eq(webhook_events::attempts + 1),
        ))
        .execute(conn)?;
    if taken == 0 {
        return Ok(None);
    }
    get(conn, tenant, id)
}
