//! Tenants: creation, status, quotas and usage counts.

use diesel::prelude::*;

use crate::db::schema::{accounts, phone_numbers, tenants, users};
use crate::db::{DbConn, now};
use crate::domain::TenantId;
use crate::pagination::Page;

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = tenants)]
pub struct Tenant {
    pub id: i64,
    pub name: String,
    pub status: String,
    pub max_accounts: Option<i64>,
    pub daily_message_quota: Option<i64>,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}

/// How much a tenant holds.
#[derive(Clone, Copy, Debug, Default)]
pub struct Usage {
    pub users: i64,
    pub accounts: i64,
    pub phone_numbers: i64,
}

pub fn create(conn: &mut DbConn, name: &str) -> QueryResult<Tenant> {
    let ts = now();
    diesel::insert_into(tenants::table)
        .values((
            tenants::name.eq(name),
            tenants::status.eq("active"),
            tenants::created_at.eq(ts),
            tenants::updated_at.eq(ts),
        ))
        .returning(tenants::all_columns)
        .get_result(conn)
}

pub fn get(conn: &mut DbConn, id: TenantId) -> QueryResult<Option<Tenant>> {
    tenants::table.find(id.0).select(Tenant::as_select()).first(conn).optional()
}

pub fn status(conn: &mut DbConn, id: TenantId) -> QueryResult<Option<String>> {
    tenants::table.find(id.0).select(tenants::status).first(conn).optional()
}

pub fn list(conn: &mut DbConn, page: Page) -> QueryResult<Vec<Tenant>> {
    let mut q = tenants::table.select(Tenant::as_select()).order(tenants::id.desc()).limit(page.limit + 1).into_boxed();
    if let Some(before) = page.before {
        q = q.filter(tenants::id.lt(before));
    }
    q.load(conn)
}

/// Usage counts for the given tenants, in one query per table.
pub fn usage(conn: &mut DbConn, ids: &[i64]) -> QueryResult<std::collections::HashMap<i64, Usage>> {
    use diesel::dsl::count_star;
    let mut out: std::collections::HashMap<i64, Usage> = ids.iter().map(|id| (*id, Usage::default())).collect();
    let rows: Vec<(i64, i64)> = users::table
        .filter(users::tenant_id.eq_any(ids))
        .group_by(users::tenant_id)
        .select((users::tenant_id, count_star()))
        .load(conn)?;
    rows.into_iter().for_each(|(t, n)| out.entry(t).or_default().users = n);
    let rows: Vec<(i64, i64)> = accounts::table
        .filter(accounts::tenant_id.eq_any(ids))
        .group_by(accounts::tenant_id)
        .select((accounts::tenant_id, count_star()))
        .load(conn)?;
    rows.into_iter().for_each(|(t, n)| out.entry(t).or_default().accounts = n);
    let rows: Vec<(i64, i64)> = phone_numbers::table
        .filter(phone_numbers::tenant_id.eq_any(ids))
        .group_by(phone_numbers::tenant_id)
        .select((phone_numbers::tenant_id, count_star()))
        .load(conn)?;
    rows.into_iter().for_each(|(t, n)| out.entry(t).or_default().phone_numbers = n);
    Ok(out)
}

pub fn set_status(conn: &mut DbConn, id: TenantId, status: &str) -> QueryResult<Option<Tenant>> {
    diesel::update(tenants::table.find(id.0))
        .set((tenants::status.eq(status), tenants::updated_at.eq(now())))
        .returning(tenants::all_columns)
        .get_result(conn)
        .optional()
}

pub fn set_quotas(
    conn: &mut DbConn,
    id: TenantId,
    max_accounts: Option<i64>,
    daily_message_quota: Option<i64>,
) -> QueryResult<Option<Tenant>> {
    diesel::update(tenants::table.find(id.0))
        .set((
            tenants::max_accounts.eq(max_accounts),
            tenants::daily_message_quota.eq(daily_message_quota),
            tenants::updated_at.eq(now()),
        ))
        .returning(tenants::all_columns)
        .get_result(conn)
        .optional()
}
