//! IVR call logs. Ingesting a call links it to its caller's lead (created when missing) and to the
//! project that owns the dialled IVR number; the same call (caller, start time) is stored once.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamp};

use crate::db::schema::ivr_calls;
use crate::db::{DbConn, now, portable};
use crate::domain::TenantId;
use crate::pagination::Page;
use crate::store::{leads, projects};

#[derive(Clone, Debug, Queryable, Selectable)]
#[diesel(table_name = ivr_calls)]
pub struct CallRow {
    pub id: i64,
    pub tenant_id: i64,
    pub caller_id_number: String,
    pub call_to_number: String,
    pub duration: i64,
    pub start_stamp: chrono::NaiveDateTime,
    pub status: String,
    pub lead_id: Option<i64>,
    pub project_id: Option<i64>,
    pub created_at: chrono::NaiveDateTime,
}

/// One call as the IVR reports it. Numbers are E.164 where they parse; `caller_valid` says whether
/// the caller's did (a call from an invalid caller id is kept, without a lead).
#[derive(Clone, Debug)]
pub struct NewCall {
    pub caller_id_number: String,
    pub caller_valid: bool,
    pub call_to_number: String,
    pub duration: i64,
    pub start_stamp: chrono::NaiveDateTime,
}

/// What became of one ingested call.
#[derive(Clone, Debug)]
pub struct Ingested {
    /// The stored call (the earlier one when this call was already stored).
    pub call: CallRow,
    pub duplicate: bool,
    pub lead_created: bool,
}

/// Filters of the call list; all optional.
#[derive(Clone, Debug, Default)]
pub struct CallFilter {
    pub from: Option<chrono::NaiveDateTime>,
    pub to: Option<chrono::NaiveDateTime>,
    pub status: Option<String>,
    pub project_id: Option<i64>,
    pub caller: Option<String>,
}

/// A call is answered when it lasted, missed otherwise.
pub fn status_of(duration: i64) -> &'static str {
    if duration > 0 { "answered" } else { "missed" }
}

/// Stores calls in order, with their leads and lead notes. Call in a write transaction.
pub fn ingest(conn: &mut DbConn, tenant: TenantId, calls: &[NewCall]) -> QueryResult<Vec<Ingested>> {
    let ivr_numbers = projects::ivr_number_map(conn, tenant)?;
    let insert = portable(
        conn,
        "INSERT INTO ivr_calls (tenant_id, caller_id_number, call_to_number, duration, start_stamp, status, \
         lead_id, project_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (tenant_id, caller_id_number, start_stamp) DO NOTHING",
    );
    let mut out = Vec::with_capacity(calls.len());
    for call in calls {
        let project_id = ivr_numbers.get(&call.call_to_number).copied();
        let status = status_of(call.duration);
        if let Some(existing) = find(conn, tenant, &call.caller_id_number, call.start_stamp)? {
            out.push(Ingested { call: existing, duplicate: true, lead_created: false });
            continue;
        }
        let lead = if call.caller_valid {
            let seed = leads::LeadSeed { source: "ivr", name: None, project_id };
            Some(leads::find_or_create(conn, tenant, &call.caller_id_number, seed)?)
        } else {
            None
        };
        let lead_id = lead.as_ref().map(|(l, _)| l.id);
        diesel::sql_query(insert.as_str())
            .bind::<BigInt, _>(tenant.0)
            .bind::<Text, _>(&call.caller_id_number)
            .bind::<Text, _>(&call.call_to_number)
            .bind::<BigInt, _>(call.duration)
            .bind::<Timestamp, _>(call.start_stamp)
            .bind::<Text, _>(status)
            .bind::<Nullable<BigInt>, _>(lead_id)
            .bind::<Nullable<BigInt>, _>(project_id)
            .bind::<Timestamp, _>(now())
            .execute(conn)?;
        let stored = find(conn, tenant, &call.caller_id_number, call.start_stamp)?.ok_or(diesel::NotFound)?;
        if let Some(lead_id) = lead_id {
            let note = match status {
                "answered" => format!("Answered IVR call to {} ({} s)", call.call_to_number, call.duration),
                _ => format!("Missed IVR call to {}", call.call_to_number),
            };
            leads::add_note(conn, tenant, lead_id, "ivr", &note)?;
        }
        out.push(Ingested { call: stored, duplicate: false, lead_created: lead.is_some_and(|(_, c)| c) });
    }
    Ok(out)
}

fn find(
    conn: &mut DbConn,
    tenant: TenantId,
    caller: &str,
    start: chrono::NaiveDateTime,
) -> QueryResult<Option<CallRow>> {
    ivr_calls::table
        .filter(
            ivr_calls::tenant_id
                .eq(tenant.0)
                .and(ivr_calls::caller_id_number.eq(caller))
                .and(ivr_calls::start_stamp.eq(start)),
        )
        .select(CallRow::as_select())
        .first(conn)
        .optional()
}

/// One call of the tenant.
pub fn get(conn: &mut DbConn, tenant: TenantId, id: i64) -> QueryResult<Option<CallRow>> {
    ivr_calls::table
        .filter(ivr_calls::tenant_id.eq(tenant.0).and(ivr_calls::id.eq(id)))
        .select(CallRow::as_select())
        .first(conn)
        .optional()
}

/// A page of the tenant's calls, newest stored first.
pub fn list(conn: &mut DbConn, tenant: TenantId, f: CallFilter, page: Page) -> QueryResult<Vec<CallRow>> {
    let mut q = ivr_calls::table
        .filter(ivr_calls::tenant_id.eq(tenant.0))
        .select(CallRow::as_select())
        .order(ivr_calls::id.desc())
        .limit(page.limit + 1)
        .into_boxed();
    if let Some(before) = page.before {
        q = q.filter(ivr_calls::id.lt(before));
    }
    if let Some(from) = f.from {
        q = q.filter(ivr_calls::start_stamp.ge(from));
    }
    if let Some(to) = f.to {
        q = q.filter(ivr_calls::start_stamp.lt(to));
    }
    if let Some(status) = f.status {
        q = q.filter(ivr_calls::status.eq(status));
    }
    if let Some(project) = f.project_id {
        q = q.filter(ivr_calls::project_id.eq(project));
    }
    if let Some(caller) = f.caller {
        q = q.filter(ivr_calls::caller_id_number.eq(caller));
    }
    q.load(conn)
}
