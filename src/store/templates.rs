//! Message templates of an account, and their provider-side state.

use diesel::prelude::*;

use crate::db::schema::templates;
use crate::db::{DbConn, now};
use crate::domain::TenantId;
use crate::pagination::Page;

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = templates)]
pub struct Template {
    pub id: i64,
    pub tenant_id: i64,
    pub account_id: i64,
    pub name: String,
    pub language: String,
    pub category: String,
    pub status: String,
    pub rejection_reason: Option<String>,
    pub provider_template_id: Option<String>,
    pub components: String,
    pub parameter_format: String,
    pub quality_score: Option<String>,
    pub previous_category: Option<String>,
    pub submitted_at: Option<chrono::NaiveDateTime>,
    pub synced_at: Option<chrono::NaiveDateTime>,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = templates)]
pub struct NewTemplate {
    pub tenant_id: i64,
    pub account_id: i64,
    pub name: String,
    pub language: String,
    pub category: String,
    pub status: String,
    pub provider_template_id: Option<String>,
    pub components: String,
    pub parameter_format: String,
    pub synced_at: Option<chrono::NaiveDateTime>,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}

/// Columns to change; `None` leaves a column as it is.
#[derive(Default, AsChangeset)]
#[diesel(table_name = templates)]
pub struct TemplateChanges {
    pub name: Option<String>,
    pub language: Option<String>,
    pub category: Option<String>,
    pub status: Option<String>,
    pub rejection_reason: Option<Option<String>>,
    pub provider_template_id: Option<String>,
    pub components: Option<String>,
    pub parameter_format: Option<String>,
    pub quality_score: Option<String>,
    pub previous_category: Option<String>,
    pub submitted_at: Option<chrono::NaiveDateTime>,
    pub synced_at: Option<chrono::NaiveDateTime>,
    pub updated_at: Option<chrono::NaiveDateTime>,
}

pub fn insert(conn: &mut DbConn, new: NewTemplate) -> QueryResult<Template> {
    diesel::insert_into(templates::table).values(new).returning(templates::all_columns).get_result(conn)
}

pub fn get(conn: &mut DbConn, tenant: TenantId, account: i64, id: i64) -> QueryResult<Option<Template>> {
    templates::table
        .filter(templates::tenant_id.eq(tenant.0).and(templates::account_id.eq(account)).and(templates::id.eq(id)))
        .select(Template::as_select())
        .first(conn)
        .optional()
}

/// The template a send names.
pub fn by_name(conn: &mut DbConn, account: i64, name: &str, language: &str) -> QueryResult<Option<Template>> {
    templates::table
        .filter(templates::account_id.eq(account).and(templates::name.eq(name)).and(templates::language.eq(language)))
        .select(Template::as_select())
        .first(conn)
        .optional()
}

/// Filters of the template list.
#[derive(Debug, Default)]
pub struct ListFilter {
    pub status: Option<String>,
    pub category: Option<String>,
    pub language: Option<String>,
    pub name: Option<String>,
}

pub fn list(
    conn: &mut DbConn,
    tenant: TenantId,
    account: i64,
    f: &ListFilter,
    page: Page,
) -> QueryResult<Vec<Template>> {
    let mut q = templates::table
        .filter(templates::tenant_id.eq(tenant.0).and(templates::account_id.eq(account)))
        .select(Template::as_select())
        .order(templates::id.desc())
        .limit(page.limit + 1)
        .into_boxed();
    if let Some(before) = page.before {
        q = q.filter(templates::id.lt(before));
    }
    if let Some(v) = &f.status {
        q = q.filter(templates::status.eq(v.clone()));
    }
    if let Some(v) = &f.category {
        q = q.filter(templates::category.eq(v.clone()));
    }
    if let Some(v) = &f.language {
        q = q.filter(templates::language.eq(v.clone()));
    }
    if let Some(v) = &f.name {
        q = q.filter(templates::name.like(format!("%{}%", v.replace(['%', '_'], ""))));
    }
    q.load(conn)
}

/// Every template of an account (for sync).
pub fn all_of(conn: &mut DbConn, account: i64) -> QueryResult<Vec<Template>> {
    templates::table.filter(templates::account_id.eq(account)).select(Template::as_select()).load(conn)
}

pub fn update(conn: &mut DbConn, id: i64, mut changes: TemplateChanges) -> QueryResult<Template> {
    changes.updated_at = Some(now());
    diesel::update(templates::table.find(id)).set(&changes).returning(templates::all_columns).get_result(conn)
}

pub fn delete(conn: &mut DbConn, id: i64) -> QueryResult<usize> {
    diesel::delete(templates::table.find(id)).execute(conn)
}
