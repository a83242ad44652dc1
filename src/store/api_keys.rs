//! API keys: stored as SHA-256 hashes, listed by prefix, revocable.

use diesel::prelude::*;

use crate::auth::Role;
use crate::auth::context::{AuthContext, Authenticated};
use crate::db::schema::{api_keys, tenants};
use crate::db::{DbConn, now};
use crate::domain::TenantId;
use crate::pagination::Page;

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = api_keys)]
pub struct ApiKey {
    pub id: i64,
    pub tenant_id: i64,
    pub name: String,
    pub prefix: String,
    pub key_hash: String,
    pub role: String,
    pub created_by: Option<i64>,
    pub last_used_at: Option<chrono::NaiveDateTime>,
    pub revoked_at: Option<chrono::NaiveDateTime>,
    pub created_at: chrono::NaiveDateTime,
}

pub fn create(
    conn: &mut DbConn,
    tenant: TenantId,
    name: &str,
    prefix: &str,
    key_hash: &str,
    role: Role,
    created_by: Option<i64>,
) -> QueryResult<ApiKey> {
    diesel::insert_into(api_keys::table)
        .values((
            api_keys::tenant_id.eq(tenant.0),
            api_keys::name.eq(name),
            api_keys::prefix.eq(prefix),
            api_keys::key_hash.eq(key_hash),
            api_keys::role.eq(role.as_str()),
            api_keys::created_by.eq(created_by),
            api_keys::created_at.eq(now()),
        ))
        .returning(api_keys::all_columns)
        .get_result(conn)
}

pub fn list(conn: &mut DbConn, tenant: TenantId, page: Page) -> QueryResult<Vec<ApiKey>> {
    let mut q = api_keys::table
        .filter(api_keys::tenant_id.eq(tenant.0))
        .select(ApiKey::as_select())
        .order(api_keys::id.desc())
        .limit(page.limit + 1)
        .into_boxed();
    if let Some(before) = page.before {
        q = q.filter(api_keys::id.lt(before));
    }
    q.load(conn)
}

/// Revokes a key; `None` when the tenant has no such key.
pub fn revoke(conn: &mut DbConn, tenant: TenantId, id: i64) -> QueryResult<Option<ApiKey>> {
    let target = api_keys::table.filter(api_keys::tenant_id.eq(tenant.0).and(api_keys::id.eq(id)));
    let Some(key) = target.select(ApiKey::as_select()).first(conn).optional()? else {
        return Ok(None);
    };
    if key.revoked_at.is_some() {
        return Ok(Some(key));
    }
    diesel::update(api_keys::table.find(id))
        .set(api_keys::revoked_at.eq(now()))
        .returning(api_keys::all_columns)
        .get_result(conn)
        .optional()
}

/// The principal for a presented key hash; records use at most once a minute.
pub fn authenticate(conn: &mut DbConn, key_hash: &str) -> QueryResult<Option<Authenticated>> {
    let row: Option<(i64, i64, String, Option<chrono::NaiveDateTime>, String)> = api_keys::table
        .inner_join(tenants::table)
        .filter(api_keys::key_hash.eq(key_hash).and(api_keys::revoked_at.is_null()))
        .select((api_keys::id, api_keys::tenant_id, api_keys::role, api_keys::last_used_at, tenants::status))
        .first(conn)
        .optional()?;
    let Some((id, tenant_id, role, last_used, status)) = row else {
        return Ok(None);
    };
    let ts = now();
    if last_used.is_none_or(|t| ts - t > chrono::Duration::seconds(60)) {
        diesel::update(api_keys::table.find(id)).set(api_keys::last_used_at.eq(ts)).execute(conn)?;
    }
    Ok(Some(Authenticated {
        principal: AuthContext {
            tenant_id: TenantId(tenant_id),
            user_id: None,
            api_key_id: Some(id),
            role: Role::parse(&role),
            platform_admin: false,
        },
        tenant_suspended: status == "suspended",
    }))
}
