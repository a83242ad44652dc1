//! Health checks of accounts: one row per check.

use diesel::prelude::*;

use crate::db::schema::{accounts, health_logs};
use crate::db::{DbConn, now};
use crate::domain::TenantId;
use crate::pagination::Page;

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = health_logs)]
pub struct HealthLog {
    pub id: i64,
    pub tenant_id: i64,
    pub account_id: i64,
    pub status: String,
    pub response_time_ms: i64,
    pub details: String,
    pub error: Option<String>,
    pub created_at: chrono::NaiveDateTime,
}

/// The result of one check.
pub struct Check<'a> {
    /// `healthy`, `degraded` or `unhealthy`.
    pub status: &'a str,
    pub response_time_ms: i64,
    /// JSON details.
    pub details: &'a str,
    pub error: Option<&'a str>,
    /// The provider refused the credentials: the account stops sending until they are replaced.
    pub needs_reauth: bool,
}

/// Writes a check and sets the account's health status (and, on an auth failure, `needs_reauth`).
pub fn record(conn: &mut DbConn, tenant: i64, account: i64, check: &Check) -> QueryResult<HealthLog> {
    let Check { status, response_time_ms, details, error, needs_reauth } = *check;
    let ts = now();
    let log = diesel::insert_into(health_logs::table)
        .values((
            health_logs::tenant_id.eq(tenant),
            health_logs::account_id.eq(account),
            health_logs::status.eq(status),
            health_logs::response_time_ms.eq(response_time_ms),
            health_logs::details.eq(details),
            health_logs::error.eq(error),
            health_logs::created_at.eq(ts),
        ))
        .returning(health_logs::all_columns)
        .get_result(conn)?;
    diesel::update(accounts::table.find(account))
        .set((accounts::health_status.eq(status), accounts::updated_at.eq(ts)))
        .execute(conn)?;
    if needs_reauth {
        diesel::update(accounts::table.find(account)).set(accounts::status.eq("needs_reauth")).execute(conn)?;
    }
    Ok(log)
}

pub fn list(conn: &mut DbConn, tenant: TenantId, account: i64, page: Page) -> QueryResult<Vec<HealthLog>> {
    let mut q = health_logs::table
        .filter(health_logs::tenant_id.eq(tenant.0).and(health_logs::account_id.eq(account)))
        .select(HealthLog::as_select())
        .order(health_logs::id.desc())
        .limit(page.limit + 1)
        .into_boxed();
    if let Some(before) = page.before {
        q = q.filter(health_logs::id.lt(before));
    }
    q.load(conn)
}
