//! Leads (one per phone number in a tenant) and their notes.

use diesel::prelude::*;

use crate::db::schema::{lead_notes, leads};
use crate::db::{DbConn, now};
use crate::domain::TenantId;
use crate::pagination::Page;

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

/// The fields a new lead starts with.
#[derive(Clone, Debug, Default)]
pub struct NewLead {
    pub project_id: Option<i64>,
    pub name: Option<String>,
    pub phone: String,
    pub source: String,
    pub status: Option<String>,
    pub stage: Option<String>,
}

/// Columns to change; `None` leaves a column as it is.
#[derive(Default, AsChangeset)]
#[diesel(table_name = leads)]
pub struct LeadChanges {
    pub name: Option<Option<String>>,
    pub project_id: Option<Option<i64>>,
    pub status: Option<String>,
    pub stage: Option<Option<String>>,
    pub follow_up: Option<bool>,
    pub updated_at: Option<chrono::NaiveDateTime>,
}

/// Filters of the lead list; all given ones must match.
#[derive(Clone, Debug, Default)]
pub struct LeadFilter {
    pub status: Option<String>,
    pub project_id: Option<i64>,
    pub source: Option<String>,
    /// E.164.
    pub phone: Option<String>,
    /// A case-insensitive substring of the name.
    pub q: Option<String>,
}

diesel::define_sql_function! {
    /// SQL `lower()`, the same on both backends.
    fn lower(x: diesel::sql_types::Nullable<diesel::sql_types::Text>) -> diesel::sql_types::Nullable<diesel::sql_types::Text>;
}

#[derive(QueryableByName)]
struct Inserted {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
}

/// Inserts a lead unless the tenant has one with this phone: `Ok(None)` then (race-safe).
pub fn insert_new(conn: &mut DbConn, tenant: TenantId, new: &NewLead) -> QueryResult<Option<i64>> {
    use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};
    let sql = crate::db::portable(
        conn,
        "INSERT INTO leads (tenant_id, project_id, name, phone, source, status, stage, follow_up, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, FALSE, $8, $8) ON CONFLICT (tenant_id, phone) DO NOTHING RETURNING id",
    );
    let rows: Vec<Inserted> = diesel::sql_query(sql)
        .bind::<BigInt, _>(tenant.0)
        .bind::<Nullable<BigInt>, _>(new.project_id)
        .bind::<Nullable<Text>, _>(new.name.as_deref())
        .bind::<Text, _>(&new.phone)
        .bind::<Text, _>(&new.source)
        .bind::<Text, _>(new.status.as_deref().unwrap_or("new"))
        .bind::<Nullable<Text>, _>(new.stage.as_deref())
        .bind::<Timestamp, _>(now())
        .load(conn)?;
    Ok(rows.first().map(|r| r.id))
}

/// The tenant's leads matching `f`, newest first.
pub fn list(conn: &mut DbConn, tenant: TenantId, f: &LeadFilter, page: Page) -> QueryResult<Vec<LeadRow>> {
    let mut q = leads::table
        .filter(leads::tenant_id.eq(tenant.0))
        .select(LeadRow::as_select())
        .order(leads::id.desc())
        .limit(page.limit + 1)
        .into_boxed();
    if let Some(before) = page.before {
        q = q.filter(leads::id.lt(before));
    }
    if let Some(s) = &f.status {
        q = q.filter(leads::status.eq(s.clone()));
    }
    if let Some(p) = f.project_id {
        q = q.filter(leads::project_id.eq(p));
    }
    if let Some(s) = &f.source {
        q = q.filter(leads::source.eq(s.clone()));
    }
    if let Some(p) = &f.phone {
        q = q.filter(leads::phone.eq(p.clone()));
    }
    if let Some(text) = &f.q {
        let escaped = text.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        q = q.filter(lower(leads::name).like(format!("%{escaped}%")).escape('\\'));
    }
    q.load(conn)
}

/// Applies `changes` to the tenant's lead; `None` when there is no such lead.
pub fn update(conn: &mut DbConn, tenant: TenantId, id: i64, mut changes: LeadChanges) -> QueryResult<Option<LeadRow>> {
    changes.updated_at = Some(now());
    diesel::update(leads::table.filter(leads::tenant_id.eq(tenant.0).and(leads::id.eq(id))))
        .set(changes)
        .returning(leads::all_columns)
        .get_result(conn)
        .optional()
}

/// Deletes the tenant's lead with its notes; `false` when there was none.
pub fn delete(conn: &mut DbConn, tenant: TenantId, id: i64) -> QueryResult<bool> {
    diesel::delete(leads::table.filter(leads::tenant_id.eq(tenant.0).and(leads::id.eq(id))))
        .execute(conn)
        .map(|n| n > 0)
}

/// A lead's notes, newest first (the caller has checked the lead is the tenant's).
pub fn notes(conn: &mut DbConn, tenant: TenantId, lead_id: i64, page: Page) -> QueryResult<Vec<NoteRow>> {
    let mut q = lead_notes::table
        .filter(lead_notes::tenant_id.eq(tenant.0).and(lead_notes::lead_id.eq(lead_id)))
        .select(NoteRow::as_select())
        .order(lead_notes::id.desc())
        .limit(page.limit + 1)
        .into_boxed();
    if let Some(before) = page.before {
        q = q.filter(lead_notes::id.lt(before));
    }
    q.load(conn)
}

#[derive(Insertable)]
#[diesel(table_name = leads, treat_none_as_default_value = false)]
struct LeadInsert<'a> {
    tenant_id: i64,
    project_id: Option<i64>,
    name: Option<&'a str>,
    phone: &'a str,
    source: &'a str,
    status: &'a str,
    stage: Option<&'a str>,
    created_at: chrono::NaiveDateTime,
    updated_at: chrono::NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = lead_notes)]
struct NoteInsert<'a> {
    tenant_id: i64,
    lead_id: i64,
    source: &'a str,
    body: &'a str,
    created_at: chrono::NaiveDateTime,
}

/// Inserts many leads (each with an optional note) in a few statements; a phone number the tenant
/// already has, or an earlier row of the batch had, is skipped. Returns per row `Ok(new id)` or
/// `Err(existing id)`. Call in a write transaction.
pub fn insert_batch(
    conn: &mut DbConn,
    tenant: TenantId,
    rows: &[(NewLead, Option<String>)],
) -> QueryResult<Vec<Result<i64, i64>>> {
    use std::collections::HashMap;
    let at = now();
    let values: Vec<LeadInsert> = rows
        .iter()
        .map(|(l, _)| LeadInsert {
            tenant_id: tenant.0,
            project_id: l.project_id,
            name: l.name.as_deref(),
            phone: &l.phone,
            source: &l.source,
            status: l.status.as_deref().unwrap_or("new"),
            stage: l.stage.as_deref(),
            created_at: at,
            updated_at: at,
        })
        .collect();
    macro_rules! insert {
        ($v:expr) => {
            diesel::insert_into(leads::table)
                .values($v)
                .on_conflict((leads::tenant_id, leads::phone))
                .do_nothing()
                .returning((leads::phone, leads::id))
        };
    }
    // diesel runs a SQLite batch in its own transaction, which cannot nest in ours: row by row there
    // (cheap on SQLite, whose statements are prepared once and run in-process).
    let created: Vec<(String, i64)> = match conn {
        DbConn::Pg(c) => insert!(&values).get_results(c)?,
        DbConn::Sqlite(c) => {
            let mut out = Vec::with_capacity(values.len());
            for v in &values {
                out.extend(insert!(v).get_result(c).optional()?);
            }
            out
        }
    };
    let mut created: HashMap<String, i64> = created.into_iter().collect();
    let mut existing: HashMap<String, i64> = HashMap::new();
    let missing: Vec<&str> = rows.iter().map(|(l, _)| l.phone.as_str()).filter(|p| !created.contains_key(*p)).collect();
    if !missing.is_empty() {
        existing = leads::table
            .filter(leads::tenant_id.eq(tenant.0).and(leads::phone.eq_any(missing)))
            .select((leads::phone, leads::id))
            .load::<(String, i64)>(conn)?
            .into_iter()
            .collect();
    }
    let mut out = Vec::with_capacity(rows.len());
    let mut notes = Vec::new();
    for (lead, note) in rows {
        match created.remove(&lead.phone) {
            Some(id) => {
                existing.insert(lead.phone.clone(), id);
                if let Some(body) = note {
                    notes.push(NoteInsert {
                        tenant_id: tenant.0,
                        lead_id: id,
                        source: &lead.source,
                        body,
                        created_at: at,
                    });
                }
                out.push(Ok(id));
            }
            None => out.push(Err(existing.get(&lead.phone).copied().unwrap_or_default())),
        }
    }
    if !notes.is_empty() {
        match conn {
            DbConn::Pg(c) => diesel::insert_into(lead_notes::table).values(&notes).execute(c)?,
            DbConn::Sqlite(c) => notes
                .iter()
                .map(|n| diesel::insert_into(lead_notes::table).values(n).execute(c))
                .sum::<QueryResult<usize>>()?,
        };
    }
    Ok(out)
}
