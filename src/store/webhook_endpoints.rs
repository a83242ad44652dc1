//! Tenants' webhook endpoints, their queued deliveries and every delivery attempt. Claiming is
//! atomic per backend (`FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite has one writer).

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Timestamp};

use crate::db::schema::{webhook_deliveries, webhook_delivery_attempts, webhook_endpoints};
use crate::db::{DbConn, now};
use crate::domain::TenantId;
use crate::pagination::Page;

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = webhook_endpoints)]
pub struct Endpoint {
    pub id: i64,
    pub tenant_id: i64,
    pub url: String,
    /// JSON array of event types.
    pub event_types: String,
    pub secret_enc: String,
    pub active: bool,
    pub description: Option<String>,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}

impl Endpoint {
    /// The subscribed event types.
    pub fn types(&self) -> Vec<String> {
        serde_json::from_str(&self.event_types).unwrap_or_default()
    }
}

/// Columns to change; `None` leaves a column as it is.
#[derive(Default, AsChangeset)]
#[diesel(table_name = webhook_endpoints)]
pub struct EndpointChanges {
    pub url: Option<String>,
    pub event_types: Option<String>,
    pub secret_enc: Option<String>,
    pub active: Option<bool>,
    pub description: Option<Option<String>>,
    pub updated_at: Option<chrono::NaiveDateTime>,
}

#[derive(Clone, Debug, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = webhook_deliveries)]
pub struct Delivery {
    pub id: i64,
    pub tenant_id: i64,
    pub endpoint_id: i64,
    pub event_id: String,
    pub event_type: String,
    pub payload: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: chrono::NaiveDateTime,
    /// When the retry window started: the event's creation or its last replay.
    pub retry_from: chrono::NaiveDateTime,
    pub last_status_code: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: chrono::NaiveDateTime,
    pub delivered_at: Option<chrono::NaiveDateTime>,
}

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = webhook_delivery_attempts)]
pub struct Attempt {
    pub id: i64,
    pub delivery_id: i64,
    pub attempted_at: chrono::NaiveDateTime,
    pub status_code: Option<i32>,
    pub error: Option<String>,
    pub duration_ms: i64,
}

pub fn insert(
    conn: &mut DbConn,
    tenant: TenantId,
    url: &str,
    event_types: &str,
    secret_enc: &str,
    description: Option<&str>,
) -> QueryResult<Endpoint> {
    let ts = now();
    diesel::insert_into(webhook_endpoints::table)
        .values((
            webhook_endpoints::tenant_id.eq(tenant.0),
            webhook_endpoints::url.eq(url),
            webhook_endpoints::event_types.eq(event_types),
            webhook_endpoints::secret_enc.eq(secret_enc),
            webhook_endpoints::active.eq(true),
            webhook_endpoints::description.eq(description),
            webhook_endpoints::created_at.eq(ts),
            webhook_endpoints::updated_at.eq(ts),
        ))
        .returning(webhook_endpoints::all_columns)
        .get_result(conn)
}

pub fn get(conn: &mut DbConn, tenant: TenantId, id: i64) -> QueryResult<Option<Endpoint>> {
    webhook_endpoints::table
        .filter(webhook_endpoints::tenant_id.eq(tenant.0).and(webhook_endpoints::id.eq(id)))
        .select(Endpoint::as_select())
        .first(conn)
        .optional()
}

pub fn list(conn: &mut DbConn, tenant: TenantId, page: Page) -> QueryResult<Vec<Endpoint>> {
    let mut q = webhook_endpoints::table
        .filter(webhook_endpoints::tenant_id.eq(tenant.0))
        .select(Endpoint::as_select())
        .order(webhook_endpoints::id.desc())
        .limit(page.limit + 1)
        .into_boxed();
    if let Some(before) = page.before {
        q = q.filter(webhook_endpoints::id.lt(before));
    }
    q.load(conn)
}

/// The tenant's active endpoints (the relay filters them by event type).
pub fn active(conn: &mut DbConn, tenant: TenantId) -> QueryResult<Vec<Endpoint>> {
    webhook_endpoints::table
        .filter(webhook_endpoints::tenant_id.eq(tenant.0).and(webhook_endpoints::active.eq(true)))
        .select(Endpoint::as_select())
        .load(conn)
}

pub fn update(conn: &mut DbConn, tenant: TenantId, id: i64, changes: EndpointChanges) -> QueryResult<Option<Endpoint>> {
    let changes = EndpointChanges { updated_at: Some(now()), ..changes };
    diesel::update(
        webhook_endpoints::table.filter(webhook_endpoints::tenant_id.eq(tenant.0).and(webhook_endpoints::id.eq(id))),
    )
    .set(changes)
    .returning(webhook_endpoints::all_columns)
    .get_result(conn)
    .optional()
}

/// Deletes an endpoint with its deliveries; false when the tenant has no such endpoint.
pub fn delete(conn: &mut DbConn, tenant: TenantId, id: i64) -> QueryResult<bool> {
    let target =
        webhook_endpoints::table.filter(webhook_endpoints::tenant_id.eq(tenant.0).and(webhook_endpoints::id.eq(id)));
    Ok(diesel::delete(target).execute(conn)? > 0)
}

/// A delivery to queue.
pub struct NewDelivery<'a> {
    pub tenant: TenantId,
    pub endpoint_id: i64,
    pub event_id: &'a str,
    pub event_type: &'a str,
    pub payload: &'a str,
}

pub fn queue(conn: &mut DbConn, d: NewDelivery<'_>) -> QueryResult<Delivery> {
    let ts = now();
    diesel::insert_into(webhook_deliveries::table)
        .values((
            webhook_deliveries::tenant_id.eq(d.tenant.0),
            webhook_deliveries::endpoint_id.eq(d.endpoint_id),
            webhook_deliveries::event_id.eq(d.event_id),
            webhook_deliveries::event_type.eq(d.event_type),
            webhook_deliveries::payload.eq(d.payload),
            webhook_deliveries::status.eq("pending"),
            webhook_deliveries::next_attempt_at.eq(ts),
            webhook_deliveries::retry_from.eq(ts),
            webhook_deliveries::created_at.eq(ts),
        ))
        .returning(webhook_deliveries::all_columns)
        .get_result(conn)
}

/// An endpoint's deliveries, newest first, optionally of one status.
pub fn deliveries(
    conn: &mut DbConn,
    tenant: TenantId,
    endpoint: i64,
    status: Option<&str>,
    page: Page,
) -> QueryResult<Vec<Delivery>> {
    let mut q = webhook_deliveries::table
        .filter(webhook_deliveries::tenant_id.eq(tenant.0).and(webhook_deliveries::endpoint_id.eq(endpoint)))
        .select(Delivery::as_select())
        .order(webhook_deliveries::id.desc())
        .limit(page.limit + 1)
        .into_boxed();
    if let Some(before) = page.before {
        q = q.filter(webhook_deliveries::id.lt(before));
    }
    if let Some(s) = status {
        q = q.filter(webhook_deliveries::status.eq(s.to_string()));
    }
    q.load(conn)
}

/// The attempts of these deliveries, oldest first.
pub fn attempts(conn: &mut DbConn, delivery_ids: &[i64]) -> QueryResult<Vec<Attempt>> {
    webhook_delivery_attempts::table
        .filter(webhook_delivery_attempts::delivery_id.eq_any(delivery_ids))
        .order(webhook_delivery_attempts::id.asc())
        .select(Attempt::as_select())
        .load(conn)
}

/// Puts a delivery back in the queue, due now, with a fresh retry window; same event id.
pub fn requeue(conn: &mut DbConn, tenant: TenantId, endpoint: i64, id: i64) -> QueryResult<Option<Delivery>> {
    let target = webhook_deliveries::table.filter(
        webhook_deliveries::tenant_id
            .eq(tenant.0)
            .and(webhook_deliveries::endpoint_id.eq(endpoint))
            .and(webhook_deliveries::id.eq(id)),
    );
    diesel::update(target)
        .set((
            webhook_deliveries::status.eq("pending"),
            webhook_deliveries::next_attempt_at.eq(now()),
            webhook_deliveries::retry_from.eq(now()),
            webhook_deliveries::delivered_at.eq(None::<chrono::NaiveDateTime>),
        ))
        .returning(webhook_deliveries::all_columns)
        .get_result(conn)
        .optional()
}

/// Atomically takes up to `limit` due deliveries of active endpoints, counting the attempt and
/// pushing `next_attempt_at` past `lease`, so a process that dies mid-send leaves them retried.
pub fn claim(conn: &mut DbConn, lease: chrono::Duration, limit: i64) -> QueryResult<Vec<Delivery>> {
    const INNER: &str = "SELECT d.id FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id \
         WHERE d.status = 'pending' AND d.next_attempt_at <= $2 AND e.active ORDER BY d.next_attempt_at, d.id LIMIT $3";
    let lock = if matches!(conn, DbConn::Pg(_)) { " FOR UPDATE OF d SKIP LOCKED" } else { "" };
    let sql = format!(
        "UPDATE webhook_deliveries SET next_attempt_at = $1, attempts = attempts + 1 \
         WHERE id IN ({INNER}{lock}) RETURNING *"
    );
    let sql = if matches!(conn, DbConn::Sqlite(_)) { sql.replace('$', "?") } else { sql };
    let ts = now();
    diesel::sql_query(sql).bind::<Timestamp, _>(ts + lease).bind::<Timestamp, _>(ts).bind::<BigInt, _>(limit).load(conn)
}

/// The endpoints of claimed deliveries (any tenant: the relay worker serves all).
pub fn endpoints_by_id(conn: &mut DbConn, ids: &[i64]) -> QueryResult<Vec<Endpoint>> {
    webhook_endpoints::table.filter(webhook_endpoints::id.eq_any(ids)).select(Endpoint::as_select()).load(conn)
}

/// What one attempt came to.
pub struct AttemptResult {
    pub delivery_id: i64,
    pub at: chrono::NaiveDateTime,
    pub status_code: Option<i32>,
    pub error: Option<String>,
    pub duration_ms: i64,
    /// `delivered`, `pending` (retry at `next_attempt_at`) or `failed`.
    pub status: &'static str,
    pub next_attempt_at: chrono::NaiveDateTime,
}

/// Logs an attempt and moves its delivery on. Call in a write transaction.
pub fn record(conn: &mut DbConn, r: &AttemptResult) -> QueryResult<()> {
    diesel::insert_into(webhook_delivery_attempts::table)
        .values((
            webhook_delivery_attempts::delivery_id.eq(r.delivery_id),
            webhook_delivery_attempts::attempted_at.eq(r.at),
            webhook_delivery_attempts::status_code.eq(r.status_code),
            webhook_delivery_attempts::error.eq(&r.error),
            webhook_delivery_attempts::duration_ms.eq(r.duration_ms),
        ))
        .execute(conn)?;
    let delivered_at = (r.status == "delivered").then_some(r.at);
    diesel::update(webhook_deliveries::table.find(r.delivery_id))
        .set((
            webhook_deliveries::status.eq(r.status),
            webhook_deliveries::next_attempt_at.eq(r.next_attempt_at),
            webhook_deliveries::last_status_code.eq(r.status_code),
            webhook_deliveries::last_error.eq(&r.error),
            webhook_deliveries::delivered_at.eq(delivered_at),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Re-encrypts every endpoint secret under the vault's newest key; returns how many changed.
pub fn rotate_secrets(conn: &mut DbConn, vault: &crate::crypto::Vault) -> anyhow::Result<usize> {
    crate::db::write_tx(conn, |c| {
        let rows: Vec<(i64, String)> =
            webhook_endpoints::table.select((webhook_endpoints::id, webhook_endpoints::secret_enc)).load(c)?;
        let mut changed = 0;
        for (id, token) in rows {
            let new = vault.rotate(&token).map_err(|e| anyhow::anyhow!("webhook endpoint {id}: {e}"))?;
            if let Some(new) = new {
                diesel::update(webhook_endpoints::table.find(id))
                    .set(webhook_endpoints::secret_enc.eq(new))
                    .execute(c)?;
                changed += 1;
            }
        }
        Ok(changed)
    })
}
