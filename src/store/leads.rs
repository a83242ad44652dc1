//! Leads (one per phone number in a tenant) and their notes.

use diesel::prelude::*;

use crate::db::schema::{lead_notes, leads};
use crate::db::{DbConn, now};
use crate::domain::TenantId;

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = leads)]
pub struct LeadRow {
    pub id: i64,
    pub tenant_id: i64,
    pub project_id: Option<i64>,
    pub name: Option<String>,
    pub phone: String,
    pub source: String,
    pub status: String,
    pub stage: Option<String>,
    pub follow_up: bool,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = lead_notes)]
pub struct NoteRow {
    pub id: i64,
    pub tenant_id: i64,
    pub lead_id: i64,
    pub source: String,
    pub body: String,
    pub created_at: chrono::NaiveDateTime,
}

/// What a new lead starts with; an existing lead keeps its own values and only fills gaps.
#[derive(Clone, Copy, Debug)]
pub struct LeadSeed<'a> {
    pub source: &'a str,
    pub name: Option<&'a str>,
    pub project_id: Option<i64>,
}

/// The tenant's lead with this E.164 number, if any.
pub fn find_by_phone(conn: &mut DbConn, tenant: TenantId, phone: &str) -> QueryResult<Option<LeadRow>> {
    leads::table
        .filter(leads::tenant_id.eq(tenant.0).and(leads::phone.eq(phone)))
        .select(LeadRow::as_select())
        .first(conn)
        .optional()
}

/// One lead of the tenant.
pub fn get(conn: &mut DbConn, tenant: TenantId, id: i64) -> QueryResult<Option<LeadRow>> {
    leads::table
        .filter(leads::tenant_id.eq(tenant.0).and(leads::id.eq(id)))
        .select(LeadRow::as_select())
        .first(conn)
        .optional()
}

/// The lead for `phone` (E.164), created from `seed` when missing; an existing lead without a name
/// or project takes the seed's. Returns the lead and whether it was created. Call in a write transaction.
pub fn find_or_create(
    conn: &mut DbConn,
    tenant: TenantId,
    phone: &str,
    seed: LeadSeed,
) -> QueryResult<(LeadRow, bool)> {
    if let Some(lead) = find_by_phone(conn, tenant, phone)? {
        let name = lead.name.is_none().then_some(seed.name).flatten();
        let project = lead.project_id.is_none().then_some(seed.project_id).flatten();
        if name.is_none() && project.is_none() {
            return Ok((lead, false));
        }
        let updated = diesel::update(leads::table.find(lead.id))
            .set((
                leads::name.eq(name.or(lead.name.as_deref())),
                leads::project_id.eq(project.or(lead.project_id)),
                leads::updated_at.eq(now()),
            ))
            .returning(leads::all_columns)
            .get_result(conn)?;
        return Ok((updated, false));
    }
    let at = now();
    let lead = diesel::insert_into(leads::table)
        .values((
            leads::tenant_id.eq(tenant.0),
            leads::project_id.eq(seed.project_id),
            leads::name.eq(seed.name),
            leads::phone.eq(phone),
            leads::source.eq(seed.source),
            leads::created_at.eq(at),
            leads::updated_at.eq(at),
        ))
        .returning(leads::all_columns)
        .get_result(conn)?;
    Ok((lead, true))
}

/// Adds a timestamped note to a lead (the caller has checked the lead is the tenant's).
pub fn add_note(conn: &mut DbConn, tenant: TenantId, lead_id: i64, source: &str, body: &str) -> QueryResult<NoteRow> {
    diesel::insert_into(lead_notes::table)
        .values((
            lead_notes::tenant_id.eq(tenant.0),
            lead_notes::lead_id.eq(lead_id),
            lead_notes::source.eq(source),
            lead_notes::body.eq(body),
            lead_notes::created_at.eq(now()),
        ))
        .returning(lead_notes::all_columns)
        .get_result(conn)
}
