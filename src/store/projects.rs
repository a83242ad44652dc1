//! Projects and the IVR numbers that belong to them.

use std::collections::HashMap;

use diesel::prelude::*;

use crate::db::schema::{project_ivr_numbers, projects};
use crate::db::{DbConn, now};
use crate::domain::TenantId;
use crate::pagination::Page;

/// The tenant's IVR numbers (E.164) and the project each belongs to.
pub fn ivr_number_map(conn: &mut DbConn, tenant: TenantId) -> QueryResult<HashMap<String, i64>> {
    let rows: Vec<(String, i64)> = project_ivr_numbers::table
        .filter(project_ivr_numbers::tenant_id.eq(tenant.0))
        .select((project_ivr_numbers::number, project_ivr_numbers::project_id))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = projects)]
pub struct ProjectRow {
    pub id: i64,
    pub tenant_id: i64,
    pub name: String,
    pub brochure_url: Option<String>,
    pub deep_link_base_url: Option<String>,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}

/// A project with its IVR numbers.
#[derive(Clone, Debug)]
pub struct Project {
    pub row: ProjectRow,
    pub ivr_numbers: Vec<String>,
}

/// The fields a create or update writes; `None` leaves a column (or the number list) as it is.
#[derive(Clone, Debug, Default)]
pub struct ProjectFields {
    pub name: Option<String>,
    pub brochure_url: Option<Option<String>>,
    pub deep_link_base_url: Option<Option<String>>,
    pub ivr_numbers: Option<Vec<String>>,
}

/// Why a project write was refused.
#[derive(Debug)]
pub enum ProjectConflict {
    /// Another project of the tenant has this name.
    Name,
    /// This IVR number belongs to another project of the tenant.
    IvrNumber(String),
}

fn with_numbers(conn: &mut DbConn, rows: Vec<ProjectRow>) -> QueryResult<Vec<Project>> {
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let numbers: Vec<(i64, String)> = project_ivr_numbers::table
        .filter(project_ivr_numbers::project_id.eq_any(&ids))
        .select((project_ivr_numbers::project_id, project_ivr_numbers::number))
        .order(project_ivr_numbers::id)
        .load(conn)?;
    let mut by_project: HashMap<i64, Vec<String>> = HashMap::new();
    for (project, number) in numbers {
        by_project.entry(project).or_default().push(number);
    }
    Ok(rows
        .into_iter()
        .map(|row| Project { ivr_numbers: by_project.remove(&row.id).unwrap_or_default(), row })
        .collect())
}

/// One project of the tenant.
pub fn get(conn: &mut DbConn, tenant: TenantId, id: i64) -> QueryResult<Option<Project>> {
    let row = projects::table
        .filter(projects::tenant_id.eq(tenant.0).and(projects::id.eq(id)))
        .select(ProjectRow::as_select())
        .first(conn)
        .optional()?;
    Ok(with_numbers(conn, row.into_iter().collect())?.pop())
}

/// A page of the tenant's projects, newest first.
pub fn list(conn: &mut DbConn, tenant: TenantId, page: Page) -> QueryResult<Vec<Project>> {
    let mut q = projects::table
        .filter(projects::tenant_id.eq(tenant.0))
        .select(ProjectRow::as_select())
        .order(projects::id.desc())
        .limit(page.limit + 1)
        .into_boxed();
    if let Some(before) = page.before {
        q = q.filter(projects::id.lt(before));
    }
    let rows = q.load(conn)?;
    with_numbers(conn, rows)
}

/// Names of the tenant's projects by id.
pub fn names(conn: &mut DbConn, tenant: TenantId) -> QueryResult<HashMap<i64, String>> {
    let rows: Vec<(i64, String)> =
        projects::table.filter(projects::tenant_id.eq(tenant.0)).select((projects::id, projects::name)).load(conn)?;
    Ok(rows.into_iter().collect())
}

fn check_conflicts(
    conn: &mut DbConn,
    tenant: TenantId,
    id: Option<i64>,
    fields: &ProjectFields,
) -> QueryResult<Option<ProjectConflict>> {
    if let Some(name) = &fields.name {
        let taken: Option<i64> = projects::table
            .filter(projects::tenant_id.eq(tenant.0).and(projects::name.eq(name)))
            .select(projects::id)
            .first(conn)
            .optional()?;
        if taken.is_some_and(|t| Some(t) != id) {
            return Ok(Some(ProjectConflict::Name));
        }
    }
    let owners = ivr_number_map(conn, tenant)?;
    for number in fields.ivr_numbers.iter().flatten() {
        if owners.get(number).is_some_and(|owner| Some(*owner) != id) {
            return Ok(Some(ProjectConflict::IvrNumber(number.clone())));
        }
    }
    Ok(None)
}

fn set_numbers(conn: &mut DbConn, tenant: TenantId, id: i64, numbers: &[String]) -> QueryResult<()> {
    diesel::delete(project_ivr_numbers::table.filter(project_ivr_numbers::project_id.eq(id))).execute(conn)?;
    for number in numbers {
        diesel::insert_into(project_ivr_numbers::table)
            .values((
                project_ivr_numbers::tenant_id.eq(tenant.0),
                project_ivr_numbers::project_id.eq(id),
                project_ivr_numbers::number.eq(number),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Creates a project (its name is required). Call in a write transaction.
pub fn insert(
    conn: &mut DbConn,
    tenant: TenantId,
    fields: ProjectFields,
) -> QueryResult<Result<Project, ProjectConflict>> {
    if let Some(conflict) = check_conflicts(conn, tenant, None, &fields)? {
        return Ok(Err(conflict));
    }
    let at = now();
    let row: ProjectRow = diesel::insert_into(projects::table)
        .values((
            projects::tenant_id.eq(tenant.0),
            projects::name.eq(fields.name.unwrap_or_default()),
            projects::brochure_url.eq(fields.brochure_url.flatten()),
            projects::deep_link_base_url.eq(fields.deep_link_base_url.flatten()),
            projects::created_at.eq(at),
            projects::updated_at.eq(at),
        ))
        .returning(projects::all_columns)
        .get_result(conn)?;
    let ivr_numbers = fields.ivr_numbers.unwrap_or_default();
    set_numbers(conn, tenant, row.id, &ivr_numbers)?;
    Ok(Ok(Project { row, ivr_numbers }))
}

/// Changes a project; `Ok(None)` when it is not the tenant's. Call in a write transaction.
pub fn update(
    conn: &mut DbConn,
    tenant: TenantId,
    id: i64,
    fields: ProjectFields,
) -> QueryResult<Option<Result<Project, ProjectConflict>>> {
    if get(conn, tenant, id)?.is_none() {
        return Ok(None);
    }
    if let Some(conflict) = check_conflicts(conn, tenant, Some(id), &fields)? {
        return Ok(Some(Err(conflict)));
    }
    let target = projects::table.filter(projects::tenant_id.eq(tenant.0).and(projects::id.eq(id)));
    if let Some(name) = &fields.name {
        diesel::update(target).set(projects::name.eq(name)).execute(conn)?;
    }
    if let Some(url) = &fields.brochure_url {
        diesel::update(target).set(projects::brochure_url.eq(url)).execute(conn)?;
    }
    if let Some(url) = &fields.deep_link_base_url {
        diesel::update(target).set(projects::deep_link_base_url.eq(url)).execute(conn)?;
    }
    if let Some(numbers) = &fields.ivr_numbers {
        set_numbers(conn, tenant, id, numbers)?;
    }
    diesel::update(target).set(projects::updated_at.eq(now())).execute(conn)?;
    Ok(get(conn, tenant, id)?.map(Ok))
}

/// Deletes a project (leads and calls keep their data, unlinked); `false` when it is not the tenant's.
pub fn delete(conn: &mut DbConn, tenant: TenantId, id: i64) -> QueryResult<bool> {
    diesel::delete(projects::table.filter(projects::tenant_id.eq(tenant.0).and(projects::id.eq(id))))
        .execute(conn)
        .map(|n| n > 0)
}
