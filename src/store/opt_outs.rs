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
