//! The tenant's opt-out (do-not-contact) list.

use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::opt_outs;
use crate::domain::TenantId;

/// Whether the tenant's list holds this E.164 number.
pub fn contains(conn: &mut DbConn, tenant: TenantId, phone: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        opt_outs::table.filter(opt_outs::tenant_id.eq(tenant.0).and(opt_outs::phone.eq(phone))),
    ))
    .get_result(conn)
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
