//! Received webhook bodies, stored before they are acknowledged and applied afterwards.

use std::collections::{HashMap, HashSet};

use diesel::prelude::*;

use crate::db::schema::{webhook_dedupe, webhook_events};
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
    /// The first delivery of the same body, when this one is a redelivery (not applied).
    pub duplicate_of: Option<i64>,
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

/// Stores events in the caller's transaction. A redelivered body is stored again: it is
/// recognised when applied (see [`redeliveries`]), so storing never touches a random index page.
/// PostgreSQL takes the rows in multi-row statements; SQLite (no network round trip) row by row,
/// each with the same prepared statement.
pub fn insert_many(conn: &mut DbConn, new: &[&NewEvent]) -> QueryResult<()> {
    match conn {
        DbConn::Pg(c) => {
            for rows in new.chunks(PG_ROWS_PER_STATEMENT) {
                diesel::insert_into(webhook_events::table).values(rows.to_vec()).execute(c)?;
            }
        }
        DbConn::Sqlite(c) => {
            for row in new {
                diesel::insert_into(webhook_events::table).values(*row).execute(c)?;
            }
        }
    }
    Ok(())
}

/// Stores one event in the caller's transaction; returns its id.
pub fn insert(conn: &mut DbConn, new: &NewEvent) -> QueryResult<i64> {
    diesel::insert_into(webhook_events::table).values(new).returning(webhook_events::id).get_result(conn)
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

/// Waiting and not quarantined, as the partial index `webhook_events_pending_idx` spells it (so
/// both backends use it).
macro_rules! waiting {
    () => {
        webhook_events::processed_at.is_null().and(diesel::dsl::not(webhook_events::quarantined))
    };
}

/// Takes up to `limit` events waiting to be applied, oldest first (quarantined ones never are).
/// Call in the transaction that applies and finishes them.
pub fn claim_round(conn: &mut DbConn, limit: i64) -> QueryResult<Vec<WebhookEvent>> {
    let ids: Vec<i64> = webhook_events::table
        .filter(waiting!())
        .order(webhook_events::id.asc())
        .limit(limit)
        .select(webhook_events::id)
        .load(conn)?;
    claim_ids(conn, &ids)
}

/// Takes one waiting event. `None` when it was applied meanwhile.
/// Call in the transaction that applies and finishes it.
pub fn claim(conn: &mut DbConn, id: i64) -> QueryResult<Option<WebhookEvent>> {
    Ok(claim_ids(conn, &[id])?.pop())
}

/// Claims those of `ids` still waiting and counts the attempt; oldest first. Every caller marks
/// them done in the same transaction, so the update's row locks are the claim: another process's
/// round waits on them, finds the events applied, and skips them.
fn claim_ids(conn: &mut DbConn, ids: &[i64]) -> QueryResult<Vec<WebhookEvent>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut events: Vec<WebhookEvent> =
        diesel::update(webhook_events::table.filter(webhook_events::id.eq_any(ids)).filter(waiting!()))
            .set((webhook_events::claimed_at.eq(now()), webhook_events::attempts.eq(webhook_events::attempts + 1)))
            .returning(webhook_events::all_columns)
            .get_results(conn)?;
    events.sort_by_key(|e| e.id);
    Ok(events)
}

/// An event recorded as the first of its body.
#[derive(QueryableByName)]
struct First {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    event_id: i64,
}

/// Of these events (oldest first), the redeliveries of a body an earlier event carried, each with
/// that first event's id; records every other event as the first of its body. One insert of every
/// key (the oldest of a body wins), and a read of the first deliveries only when some lost.
pub fn redeliveries(conn: &mut DbConn, events: &[WebhookEvent]) -> QueryResult<HashMap<i64, i64>> {
    if events.is_empty() {
        return Ok(HashMap::new());
    }
    let ids = events.iter().map(|e| e.id.to_string()).collect::<Vec<_>>().join(", ");
    let firsts: HashSet<i64> = diesel::sql_query(format!(
        "INSERT INTO webhook_dedupe (dedupe_key, event_id) SELECT dedupe_key, id FROM webhook_events \
         WHERE id IN ({ids}) ORDER BY id ON CONFLICT (dedupe_key) DO NOTHING RETURNING event_id"
    ))
    .load::<First>(conn)?
    .into_iter()
    .map(|f| f.event_id)
    .collect();
    let repeats: Vec<&WebhookEvent> = events.iter().filter(|e| !firsts.contains(&e.id)).collect();
    if repeats.is_empty() {
        return Ok(HashMap::new());
    }
    let keys: Vec<&str> = repeats.iter().map(|e| e.dedupe_key.as_str()).collect();
    let first_of: HashMap<String, i64> = webhook_dedupe::table
        .filter(webhook_dedupe::dedupe_key.eq_any(&keys))
        .select((webhook_dedupe::dedupe_key, webhook_dedupe::event_id))
        .load::<(String, i64)>(conn)?
        .into_iter()
        .collect();
    Ok(repeats.iter().filter_map(|e| first_of.get(&e.dedupe_key).filter(|f| **f != e.id).map(|f| (e.id, *f))).collect())
}

/// Marks events applied without failures.
pub fn finish_all(conn: &mut DbConn, ids: &[i64]) -> QueryResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    diesel::update(webhook_events::table.filter(webhook_events::id.eq_any(ids)))
        .set((webhook_events::processed_at.eq(now()), webhook_events::process_error.eq(None::<String>)))
        .execute(conn)
        .map(|_| ())
}

/// Marks an event done: applied with what failed, or a redelivery of `duplicate_of` (not applied).
pub fn finish(conn: &mut DbConn, id: i64, error: Option<&str>, duplicate_of: Option<i64>) -> QueryResult<()> {
    diesel::update(webhook_events::table.find(id))
        .set((
            webhook_events::processed_at.eq(now()),
            webhook_events::process_error.eq(error),
            webhook_events::duplicate_of.eq(duplicate_of),
        ))
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
            webhook_events::duplicate_of.eq(None::<i64>),
            webhook_events::attempts.eq(webhook_events::attempts + 1),
        ))
        .execute(conn)?;
    if taken == 0 {
        return Ok(None);
    }
    get(conn, tenant, id)
}
