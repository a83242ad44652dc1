//! The tenant's opt-out (do-not-contact) list.

use std::collections::HashSet;

use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::opt_outs;
use crate::domain::TenantId;
use crate::pagination::Page;

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = opt_outs)]
pub struct OptOut {
    pub id: i64,
    pub tenant_id: i64,
    pub phone: String,
    pub reason: Option<String>,
    pub source: String,
    pub created_at: chrono::NaiveDateTime,
}

/// Whether the tenant's list holds this E.164 number.
pub fn contains(conn: &mut DbConn, tenant: TenantId, phone: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        opt_outs::table.filter(opt_outs::tenant_id.eq(tenant.0).and(opt_outs::phone.eq(phone))),
    ))
    .get_result(conn)
}

/// Which of these E.164 numbers the tenant's list holds (one query).
pub fn among(conn: &mut DbConn, tenant: TenantId, phones: &[&str]) -> QueryResult<HashSet<String>> {
    if phones.is_empty() {
        return Ok(HashSet::new());
    }
    let found: Vec<String> = opt_outs::table
        .filter(opt_outs::tenant_id.eq(tenant.0).and(opt_outs::phone.eq_any(phones)))
        .select(opt_outs::phone)
        .load(conn)?;
    Ok(found.into_iter().collect())
}

/// Adds a number to the tenant's list; `false` when it was already there. Call in a transaction.
pub fn add(conn: &mut DbConn, tenant: TenantId, phone: &str, source: &str, reason: Option<&str>) -> QueryResult<bool> {
    if contains(conn, tenant, phone)? {
        return Ok(false);
    }
    diesel::insert_into(opt_outs::table)
        .values((
            opt_outs::tenant_id.eq(tenant.0),
            opt_outs::phone.eq(phone),
            opt_outs::source.eq(source),
            opt_outs::reason.eq(reason),
            opt_outs::created_at.eq(crate::db::now()),
        ))
        .execute(conn)
        .map(|_| true)
}

/// The tenant's entry for this E.164 number, if any.
pub fn by_phone(conn: &mut DbConn, tenant: TenantId, phone: &str) -> QueryResult<Option<OptOut>> {
    opt_outs::table
        .filter(opt_outs::tenant_id.eq(tenant.0).and(opt_outs::phone.eq(phone)))
        .select(OptOut::as_select())
        .first(conn)
        .optional()
}

/// The tenant's entries, newest first, optionally of one source.
pub fn list(conn: &mut DbConn, tenant: TenantId, source: Option<&str>, page: Page) -> QueryResult<Vec<OptOut>> {
    let mut q = opt_outs::table
        .filter(opt_outs::tenant_id.eq(tenant.0))
        .select(OptOut::as_select())
        .order(opt_outs::id.desc())
        .limit(page.limit + 1)
        .into_boxed();
    if let Some(before) = page.before {
        q = q.filter(opt_outs::id.lt(before));
    }
    if let Some(s) = source {
        q = q.filter(opt_outs::source.eq(s.to_string()));
    }
    q.load(conn)
}

/// Removes the tenant's entry with this id, or for this E.164 number; `false` when there was none.
pub fn remove(conn: &mut DbConn, tenant: TenantId, id: Option<i64>, phone: Option<&str>) -> QueryResult<bool> {
    let mine = opt_outs::table.filter(opt_outs::tenant_id.eq(tenant.0));
    let n = match (id, phone) {
        (Some(id), _) => diesel::delete(mine.filter(opt_outs::id.eq(id))).execute(conn)?,
        (None, Some(p)) => diesel::delete(mine.filter(opt_outs::phone.eq(p))).execute(conn)?,
        (None, None) => 0,
    };
    Ok(n > 0)
}
