//! Projects and the IVR numbers that belong to them.

use std::collections::HashMap;

use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{project_ivr_numbers, projects};
use crate::domain::TenantId;

/// The tenant's IVR numbers (E.164) and the project each belongs to.
pub fn ivr_number_map(conn: &mut DbConn, tenant: TenantId) -> QueryResult<HashMap<String, i64>> {
    let rows: Vec<(String, i64)> = project_ivr_numbers::table
        .filter(project_ivr_numbers::tenant_id.eq(tenant.0))
        .select((project_ivr_numbers::number, project_ivr_numbers::project_id))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

/// The tenant's projects as (id, name), to resolve a project given by name or id.
pub fn names(conn: &mut DbConn, tenant: TenantId) -> QueryResult<Vec<(i64, String)>> {
    projects::table.filter(projects::tenant_id.eq(tenant.0)).select((projects::id, projects::name)).load(conn)
}

/// The brochure URL of the tenant's project, if the project exists and has one.
pub fn brochure_url(conn: &mut DbConn, tenant: TenantId, id: i64) -> QueryResult<Option<String>> {
    projects::table
        .filter(projects::tenant_id.eq(tenant.0).and(projects::id.eq(id)))
        .select(projects::brochure_url)
        .first::<Option<String>>(conn)
        .optional()
        .map(Option::flatten)
}
