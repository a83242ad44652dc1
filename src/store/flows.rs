//! WhatsApp Flows of an account.

use diesel::prelude::*;

use crate::db::schema::flows;
use crate::db::{DbConn, now};
use crate::domain::TenantId;
use crate::pagination::Page;

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = flows)]
pub struct Flow {
    pub id: i64,
    pub tenant_id: i64,
    pub account_id: i64,
    pub name: String,
    pub categories: String,
    pub status: String,
    pub provider_flow_id: Option<String>,
    pub flow_json: Option<String>,
    pub validation_errors: String,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}

/// Columns to change; `None` leaves a column as it is.
#[derive(Default, AsChangeset)]
#[diesel(table_name = flows)]
pub struct FlowChanges {
    pub name: Option<String>,
    pub categories: Option<String>,
    pub status: Option<String>,
    pub provider_flow_id: Option<String>,
    pub flow_json: Option<String>,
    pub validation_errors: Option<String>,
    pub updated_at: Option<chrono::NaiveDateTime>,
}

pub fn insert(
    conn: &mut DbConn,
    tenant: TenantId,
    account: i64,
    name: &str,
    categories: &str,
    provider_flow_id: Option<&str>,
) -> QueryResult<Flow> {
    let ts = now();
    diesel::insert_into(flows::table)
        .values((
            flows::tenant_id.eq(tenant.0),
            flows::account_id.eq(account),
            flows::name.eq(name),
            flows::categories.eq(categories),
            flows::status.eq("DRAFT"),
            flows::provider_flow_id.eq(provider_flow_id),
            flows::created_at.eq(ts),
            flows::updated_at.eq(ts),
        ))
        .returning(flows::all_columns)
        .get_result(conn)
}

pub fn get(conn: &mut DbConn, tenant: TenantId, account: i64, id: i64) -> QueryResult<Option<Flow>> {
    flows::table
        .filter(flows::tenant_id.eq(tenant.0).and(flows::account_id.eq(account)).and(flows::id.eq(id)))
        .select(Flow::as_select())
        .first(conn)
        .optional()
}

pub fn list(conn: &mut DbConn, tenant: TenantId, account: i64, page: Page) -> QueryResult<Vec<Flow>> {
    let mut q = flows::table
        .filter(flows::tenant_id.eq(tenant.0).and(flows::account_id.eq(account)))
        .select(Flow::as_select())
        .order(flows::id.desc())
        .limit(page.limit + 1)
        .into_boxed();
    if let Some(before) = page.before {
        q = q.filter(flows::id.lt(before));
    }
    q.load(conn)
}

pub fn update(conn: &mut DbConn, id: i64, mut changes: FlowChanges) -> QueryResult<Flow> {
    changes.updated_at = Some(now());
    diesel::update(flows::table.find(id)).set(&changes).returning(flows::all_columns).get_result(conn)
}

pub fn delete(conn: &mut DbConn, id: i64) -> QueryResult<usize> {
    diesel::delete(flows::table.find(id)).execute(conn)
}

/// The tenant's flow `id`, whatever its account.
pub fn of_tenant(conn: &mut DbConn, tenant: TenantId, id: i64) -> QueryResult<Option<Flow>> {
    flows::table
        .filter(flows::tenant_id.eq(tenant.0).and(flows::id.eq(id)))
        .select(Flow::as_select())
        .first(conn)
        .optional()
}
