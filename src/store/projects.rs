//! Projects and the IVR numbers that belong to them.

use std::collections::HashMap;

use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::project_ivr_numbers;
use crate::domain::TenantId;

/// The tenant's IVR numbers (E.164) and the project each belongs to.
pub fn ivr_number_map(conn: &mut DbConn, tenant: TenantId) -> QueryResult<HashMap<String, i64>> {
    let rows: Vec<(String, i64)> = project_ivr_numbers::table
        .filter(project_ivr_numbers::tenant_id.eq(tenant.0))
        .select((project_ivr_numbers::number, project_ivr_numbers::project_id))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}
