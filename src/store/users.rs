//! Users of a tenant, and the lookup behind JWT authentication.

use diesel::prelude::*;

use crate::auth::Role;
use crate::auth::context::{AuthContext, Authenticated};
use crate::db::schema::{sessions, tenants, users};
use crate::db::{DbConn, now};
use crate::domain::TenantId;
use crate::pagination::Page;

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: i64,
    pub tenant_id: i64,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub role: String,
    pub is_platform_admin: bool,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}

/// The fields of a new user.
pub struct NewUser<'a> {
    pub tenant_id: TenantId,
    pub email: &'a str,
    pub name: &'a str,
    pub password_hash: &'a str,
    pub role: Role,
    pub is_platform_admin: bool,
}

pub fn create(conn: &mut DbConn, u: NewUser<'_>) -> QueryResult<User> {
    let ts = now();
    diesel::insert_into(users::table)
        .values((
            users::tenant_id.eq(u.tenant_id.0),
            users::email.eq(u.email),
            users::name.eq(u.name),
            users::password_hash.eq(u.password_hash),
            users::role.eq(u.role.as_str()),
            users::is_platform_admin.eq(u.is_platform_admin),
            users::created_at.eq(ts),
            users::updated_at.eq(ts),
        ))
        .returning(users::all_columns)
        .get_result(conn)
}

pub fn by_email(conn: &mut DbConn, email: &str) -> QueryResult<Option<User>> {
    users::table.filter(users::email.eq(email)).select(User::as_select()).first(conn).optional()
}

/// The principal for a verified access token (its user and session), with its tenant's state;
/// `None` when the user is gone or the session was signed out.
pub fn authenticate(conn: &mut DbConn, user_id: i64, session_id: i64) -> QueryResult<Option<Authenticated>> {
    let live_session = sessions::table
        .filter(sessions::id.eq(session_id).and(sessions::user_id.eq(user_id)).and(sessions::revoked_at.is_null()));
    let row: Option<(i64, String, bool, String)> = users::table
        .inner_join(tenants::table)
        .filter(users::id.eq(user_id).and(diesel::dsl::exists(live_session)))
        .select((users::tenant_id, users::role, users::is_platform_admin, tenants::status))
        .first(conn)
        .optional()?;
    Ok(row.map(|(tenant_id, role, platform_admin, status)| Authenticated {
        principal: AuthContext {
            tenant_id: TenantId(tenant_id),
            user_id: Some(user_id),
            api_key_id: None,
            role: Role::parse(&role),
            platform_admin,
        },
        tenant_suspended: status == "suspended",
    }))
}

pub fn get(conn: &mut DbConn, tenant: TenantId, id: i64) -> QueryResult<Option<User>> {
    users::table
        .filter(users::tenant_id.eq(tenant.0).and(users::id.eq(id)))
        .select(User::as_select())
        .first(conn)
        .optional()
}

pub fn list(conn: &mut DbConn, tenant: TenantId, page: Page) -> QueryResult<Vec<User>> {
    let mut q = users::table
        .filter(users::tenant_id.eq(tenant.0))
        .select(User::as_select())
        .order(users::id.desc())
        .limit(page.limit + 1)
        .into_boxed();
    if let Some(before) = page.before {
        q = q.filter(users::id.lt(before));
    }
    q.load(conn)
}

pub fn count_owners(conn: &mut DbConn, tenant: TenantId) -> QueryResult<i64> {
    users::table.filter(users::tenant_id.eq(tenant.0).and(users::role.eq("owner"))).count().get_result(conn)
}

pub fn update(
    conn: &mut DbConn,
    tenant: TenantId,
    id: i64,
    name: Option<&str>,
    role: Option<Role>,
) -> QueryResult<Option<User>> {
    let target = users::table.filter(users::tenant_id.eq(tenant.0).and(users::id.eq(id)));
    let current = target.select(User::as_select()).first(conn).optional()?;
    let Some(current) = current else {
        return Ok(None);
    };
    diesel::update(users::table.find(id))
        .set((
            users::name.eq(name.unwrap_or(&current.name)),
            users::role.eq(role.map(Role::as_str).unwrap_or(&current.role)),
            users::updated_at.eq(now()),
        ))
        .returning(users::all_columns)
        .get_result(conn)
        .optional()
}

pub fn set_password(conn: &mut DbConn, id: i64, password_hash: &str) -> QueryResult<usize> {
    diesel::update(users::table.find(id))
        .set((users::password_hash.eq(password_hash), users::updated_at.eq(now())))
        .execute(conn)
}

pub fn delete(conn: &mut DbConn, tenant: TenantId, id: i64) -> QueryResult<bool> {
    diesel::delete(users::table.filter(users::tenant_id.eq(tenant.0).and(users::id.eq(id))))
        .execute(conn)
        .map(|n| n > 0)
}
