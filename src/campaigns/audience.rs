//! Audience resolution: the campaign's candidates from IVR calls or leads (or its test numbers),
//! valid E.164 only, one per phone (the latest call wins), opted-out numbers and phones that already
//! got the same definition excluded, each exclusion counted by reason.

use std::collections::{BTreeMap, HashSet};

use diesel::prelude::*;

use super::definition::{Audience, AudienceSource};
use crate::db::DbConn;
use crate::db::schema::{ivr_calls, leads, opt_outs, projects};
use crate::domain::{PhoneNumber, TenantId};
use crate::store;

/// One person the campaign may message, with what its variables need.
#[derive(Clone, Debug, Default)]
pub struct Candidate {
    pub phone: String,
    pub lead_id: Option<i64>,
    pub lead_name: Option<String>,
    pub lead_status: Option<String>,
    pub lead_stage: Option<String>,
    pub lead_source: Option<String>,
    pub project_id: Option<i64>,
    pub project_name: Option<String>,
    pub deep_link: Option<String>,
    /// `answered` / `missed` for IVR audiences.
    pub call_status: Option<&'static str>,
}

/// The resolved audience.
#[derive(Debug, Default)]
pub struct Resolution {
    /// Who will be messaged, in order.
    pub eligible: Vec<Candidate>,
    /// Valid, distinct phones that will not be messaged, with the reason (`opted_out`, `already_sent`).
    pub skipped: Vec<(Candidate, &'static str)>,
    /// Every exclusion by reason: `invalid_number`, `duplicate`, `opted_out`, `already_sent`, `over_limit`.
    pub exclusions: BTreeMap<String, i64>,
}

/// What a query row carries: caller, call status, lead (id, name, status, stage, source), project (id, name, link).
type Row = (
    String,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<String>,
);

fn day_start(d: chrono::NaiveDate) -> chrono::NaiveDateTime {
    d.and_hms_opt(0, 0, 0).unwrap_or_default()
}

fn ivr_rows(conn: &mut DbConn, tenant: TenantId, a: &Audience) -> QueryResult<Vec<Row>> {
    let mut q = ivr_calls::table
        .left_join(leads::table.on(leads::id.nullable().eq(ivr_calls::lead_id)))
        .left_join(projects::table.on(projects::id.nullable().eq(ivr_calls::project_id)))
        .filter(ivr_calls::tenant_id.eq(tenant.0))
        .filter(ivr_calls::start_stamp.ge(day_start(a.from_date)))
        .filter(ivr_calls::start_stamp.lt(day_start(a.to_date) + chrono::Duration::days(1)))
        .select((
            ivr_calls::caller_id_number,
            ivr_calls::status.nullable(),
            ivr_calls::lead_id,
            leads::name.nullable(),
            leads::status.nullable(),
            leads::stage.nullable(),
            leads::source.nullable(),
            ivr_calls::project_id,
            projects::name.nullable(),
            projects::deep_link_base_url.nullable(),
        ))
        .order((ivr_calls::start_stamp.desc(), ivr_calls::id.desc()))
        .into_boxed();
    if !a.projects.is_empty() {
        q = q.filter(ivr_calls::project_id.eq_any(a.projects.clone()));
    }
    if let Some(s) = a.call_status {
        q = q.filter(ivr_calls::status.eq(s.as_str()));
    }
    if !a.lead_statuses.is_empty() {
        q = q.filter(leads::status.nullable().eq_any(a.lead_statuses.iter().map(|s| s.as_str()).collect::<Vec<_>>()));
    }
    q.load(conn)
}

fn lead_rows(conn: &mut DbConn, tenant: TenantId, a: &Audience) -> QueryResult<Vec<Row>> {
    let mut q = leads::table
        .left_join(projects::table.on(projects::id.nullable().eq(leads::project_id)))
        .filter(leads::tenant_id.eq(tenant.0))
        .filter(leads::created_at.ge(day_start(a.from_date)))
        .filter(leads::created_at.lt(day_start(a.to_date) + chrono::Duration::days(1)))
        .select((
            leads::phone,
            diesel::dsl::sql::<diesel::sql_types::Nullable<diesel::sql_types::Text>>("NULL"),
            leads::id.nullable(),
            leads::name,
            leads::status.nullable(),
            leads::stage,
            leads::source.nullable(),
            leads::project_id,
            projects::name.nullable(),
            projects::deep_link_base_url.nullable(),
        ))
        .order((leads::created_at.desc(), leads::id.desc()))
        .into_boxed();
    if !a.projects.is_empty() {
        q = q.filter(leads::project_id.eq_any(a.projects.clone()));
    }
    if !a.lead_statuses.is_empty() {
        q = q.filter(leads::status.eq_any(a.lead_statuses.iter().map(|s| s.as_str()).collect::<Vec<_>>()));
    }
    q.load(conn)
}

/// Candidates for the test numbers (their leads' data where they have one). With `create_leads`,
/// a number without a lead gets one (source `api`), so its CTA links can name it.
fn test_rows(conn: &mut DbConn, tenant: TenantId, a: &Audience, create_leads: bool) -> QueryResult<Vec<Row>> {
    let mut out = Vec::new();
    for n in &a.test_numbers {
        let phone = crate::domain::phone::e164(n);
        let lead = if create_leads {
            let seed = store::leads::LeadSeed { source: "api", name: None, project_id: None };
            Some(store::leads::find_or_create(conn, tenant, &phone, seed)?.0)
        } else {
            store::leads::find_by_phone(conn, tenant, &phone)?
        };
        let project = match lead.as_ref().and_then(|l| l.project_id) {
            Some(p) => projects::table
                .find(p)
                .select((projects::name, projects::deep_link_base_url))
                .first::<(String, Option<String>)>(conn)
                .optional()?,
            None => None,
        };
        out.push((
            phone,
            None,
            lead.as_ref().map(|l| l.id),
            lead.as_ref().and_then(|l| l.name.clone()),
            lead.as_ref().map(|l| l.status.clone()),
            lead.as_ref().and_then(|l| l.stage.clone()),
            lead.as_ref().map(|l| l.source.clone()),
            lead.as_ref().and_then(|l| l.project_id),
            project.as_ref().map(|p| p.0.clone()),
            project.and_then(|p| p.1),
        ));
    }
    Ok(out)
}

fn call_status(s: Option<&str>) -> Option<&'static str> {
    match s {
        Some("answered") => Some("answered"),
        Some("missed") => Some("missed"),
        _ => None,
    }
}

/// Resolves an audience. `campaign_id` and `hash` identify the campaign whose earlier runs are
/// excluded (`already_sent`); `create_leads` is for start only (a preview writes nothing).
pub fn resolve(
    conn: &mut DbConn,
    tenant: TenantId,
    a: &Audience,
    campaign_id: i64,
    hash: &str,
    create_leads: bool,
) -> QueryResult<Resolution> {
    let rows = if !a.test_numbers.is_empty() {
        test_rows(conn, tenant, a, create_leads)?
    } else {
        match a.source {
            AudienceSource::IvrCalls => ivr_rows(conn, tenant, a)?,
            AudienceSource::Leads => lead_rows(conn, tenant, a)?,
        }
    };
    let opted_out: HashSet<String> = opt_outs::table
        .filter(opt_outs::tenant_id.eq(tenant.0))
        .select(opt_outs::phone)
        .load::<String>(conn)?
        .into_iter()
        .collect();
    let sent = store::campaigns::already_sent(conn, tenant, hash, campaign_id)?;
    let mut out = Resolution::default();
    let mut seen = HashSet::with_capacity(rows.len());
    let mut count = |r: &str| *out.exclusions.entry(r.to_string()).or_insert(0) += 1;
    let mut eligible = Vec::new();
    let mut skipped = Vec::new();
    for (phone, status, lead_id, name, lead_status, stage, source, project_id, project_name, link) in rows {
        // A call from a caller id that is not a valid number has no lead.
        let valid = lead_id.is_some() && PhoneNumber::parse(&phone).is_ok_and(|p| p.as_str() == phone);
        if !valid && a.test_numbers.is_empty() {
            count("invalid_number");
            continue;
        }
        if !seen.insert(phone.clone()) {
            count("duplicate");
            continue;
        }
        let c = Candidate {
            phone,
            lead_id,
            lead_name: name,
            lead_status,
            lead_stage: stage,
            lead_source: source,
            project_id,
            project_name,
            deep_link: link,
            call_status: call_status(status.as_deref()),
        };
        let reason = if opted_out.contains(&c.phone) {
            Some("opted_out")
        } else if sent.contains(&c.phone) {
            Some("already_sent")
        } else {
            None
        };
        match reason {
            Some(r) => {
                count(r);
                skipped.push((c, r));
            }
            None if eligible.len() as i64 >= a.limit() => count("over_limit"),
            None => eligible.push(c),
        }
    }
    out.eligible = eligible;
    out.skipped = skipped;
    Ok(out)
}

/// Eligible recipients counted by project and call status.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, utoipa::ToSchema)]
pub struct Group {
    pub project_id: Option<i64>,
    pub project_name: Option<String>,
    /// `answered`, `missed`, or null for lead audiences.
    pub call_status: Option<String>,
    pub count: i64,
}

/// A group's key: project and call status.
type GroupKey = (Option<i64>, Option<&'static str>);

/// Counts of the eligible candidates by (project, call status).
pub fn groups(eligible: &[Candidate]) -> Vec<Group> {
    let mut map: BTreeMap<GroupKey, (Option<String>, i64)> = BTreeMap::new();
    for c in eligible {
        let e = map.entry((c.project_id, c.call_status)).or_insert((c.project_name.clone(), 0));
        e.1 += 1;
    }
    map.into_iter()
        .map(|((project_id, status), (project_name, count))| Group {
            project_id,
            project_name,
            call_status: status.map(str::to_string),
            count,
        })
        .collect()
}
