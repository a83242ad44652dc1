//! `POST /leads/import`: a CSV of leads. Every row is validated on its own and imported whole or
//! not at all; a phone number the tenant already has (or an earlier row had) is skipped and
//! reported as a duplicate, never changed. Rows are written in chunks, one transaction each.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, post, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::AuthContext;
use crate::db::write_tx;
use crate::domain::PhoneNumber;
use crate::domain::lead::LeadStatus;
use crate::error::{ApiError, ApiResult, FieldErrors};
use crate::extract::NUL_CODE;
use crate::routes::upload;
use crate::state::AppState;
use crate::store::leads::{self as store, NewLead};
use crate::tabular::{self, CsvError, Record};

/// The most data rows one import takes.
pub const MAX_ROWS: usize = 10_000;
/// Rows per write transaction.
const CHUNK: usize = 500;
/// The columns an import understands; `phone` is required.
const COLUMNS: [&str; 6] = ["name", "phone", "project", "status", "stage", "notes"];

/// A row that was not imported and why, per column (`row` is the file's line, the header being 1).
#[derive(Debug, Serialize, ToSchema)]
pub struct RowError {
    pub row: usize,
    #[schema(value_type = Object, example = json!({"phone": ["invalid_e164"]}))]
    pub errors: FieldErrors,
}

/// A row skipped because the tenant already has a lead with its phone number.
#[derive(Debug, Serialize, ToSchema)]
pub struct DuplicateRow {
    pub row: usize,
    pub lead_id: i64,
}

#[derive(Debug, Default, Serialize, ToSchema)]
pub struct LeadImportReport {
    /// Data rows read (the header is not counted).
    pub total_rows: usize,
    pub created: usize,
    /// Rows skipped because their phone number already has a lead (nothing is changed).
    pub duplicates: usize,
    pub failed: usize,
    /// Header columns that are not understood; their values are ignored.
    pub unknown_columns: Vec<String>,
    pub duplicate_rows: Vec<DuplicateRow>,
    pub errors: Vec<RowError>,
}

/// A row that passed validation.
struct ValidRow {
    row: usize,
    lead: NewLead,
    note: Option<String>,
}

/// The header's column positions, with the unknown columns. 422 on `header` when it names a column
/// twice or has no `phone` column.
pub fn read_header(header: &Record, known: &[&str]) -> ApiResult<(HashMap<String, usize>, Vec<String>)> {
    let mut columns = HashMap::new();
    let mut unknown = Vec::new();
    for (i, raw) in header.fields.iter().enumerate() {
        let name = raw.trim().to_ascii_lowercase();
        if !known.contains(&name.as_str()) {
            unknown.push(raw.trim().to_string());
        } else if columns.insert(name, i).is_some() {
            return Err(ApiError::field("header", "duplicate_column"));
        }
    }
    if !columns.contains_key("phone") {
        return Err(ApiError::field("header", "missing_phone_column"));
    }
    Ok((columns, unknown))
}

/// Parses an upload into its header and data rows: 422 on `file` when it cannot be read or is
/// empty, 413 past `MAX_ROWS`.
pub fn read_records(text: &str) -> ApiResult<Vec<Record>> {
    let records =
        tabular::parse(text).map_err(|CsvError::UnclosedQuote(_)| ApiError::field("file", "unclosed_quote"))?;
    if records.is_empty() {
        return Err(ApiError::field("file", "empty"));
    }
    if records.len() - 1 > MAX_ROWS {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_many_rows",
            format!("an import takes at most {MAX_ROWS} rows"),
        ));
    }
    Ok(records)
}

/// A cell of a row by column name, trimmed; `None` when absent or empty.
pub fn cell<'a>(r: &'a Record, columns: &HashMap<String, usize>, name: &str) -> Option<&'a str> {
    columns.get(name).and_then(|i| r.fields.get(*i)).map(|s| s.trim()).filter(|s| !s.is_empty())
}

/// `nul_character` for each known column whose cell holds U+0000, which no text column can store.
pub fn nul_cells(r: &Record, columns: &HashMap<String, usize>) -> FieldErrors {
    columns
        .iter()
        .filter(|(_, i)| r.fields.get(**i).is_some_and(|f| f.contains('\0')))
        .map(|(name, _)| (name.clone(), vec![NUL_CODE.to_string()]))
        .collect()
}

fn check(
    r: &Record,
    columns: &HashMap<String, usize>,
    width: usize,
    cc: &str,
    projects: &HashMap<i64, String>,
) -> Result<ValidRow, FieldErrors> {
    let mut errors = nul_cells(r, columns);
    let mut fail = |f: &str, code: &str| errors.entry(f.to_string()).or_default().push(code.to_string());
    if r.fields.len() > width {
        fail("row", "too_many_fields");
    }
    let phone = match cell(r, columns, "phone") {
        None => {
            fail("phone", "required");
            None
        }
        Some(p) => PhoneNumber::parse_national(p, cc).map_err(|e| fail("phone", e.code())).ok(),
    };
    let mut text = |name: &str, max: usize| {
        let v = cell(r, columns, name);
        if v.is_some_and(|v| v.chars().count() > max) {
            fail(name, "too_long");
        }
        v.map(str::to_string)
    };
    let (name, stage, note) = (text("name", 200), text("stage", 100), text("notes", 4000));
    let status = cell(r, columns, "status").map(|s| s.to_ascii_lowercase().replace([' ', '-'], "_"));
    if status.as_deref().is_some_and(|s| LeadStatus::parse(s).is_none()) {
        fail("status", "invalid_choice");
    }
    let project = cell(r, columns, "project").map(|p| {
        let by_id = p.parse::<i64>().ok().filter(|id| projects.contains_key(id));
        by_id.or_else(|| projects.iter().find(|(_, n)| n.eq_ignore_ascii_case(p)).map(|(id, _)| *id))
    });
    if project == Some(None) {
        fail("project", "not_found");
    }
    match phone {
        Some(phone) if errors.is_empty() => Ok(ValidRow {
            row: r.line,
            lead: NewLead {
                project_id: project.flatten(),
                name,
                phone: phone.as_str().to_string(),
                source: "csv".into(),
                status,
                stage,
            },
            note,
        }),
        _ => Err(errors),
    }
}

/// Imports leads from a CSV (`text/csv`, or the `file` field of `multipart/form-data`, up to 4 MiB
/// and 10,000 rows). The header names the columns: `phone` (required; E.164 or national digits),
/// `name`, `project` (a project's name or id), `status`, `stage`, `notes` (added as a note);
/// other columns are reported in `unknown_columns` and ignored. Each row is imported whole or not at
/// all; existing phone numbers are skipped and listed as duplicates. New leads have source `csv`.
#[utoipa::path(tag = "leads", security(("bearer" = [])),
    request_body(content = String, content_type = "text/csv", example = "name,phone,project,status,stage,notes\nAsha Rao,9876543210,Green Acres,new,site visit,called twice"),
    responses(
        (status = 200, body = LeadImportReport, description = "the import report (per-row errors included)"),
        (status = 413, description = "more than 4 MiB or 10,000 rows", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 415, description = "neither text/csv nor multipart/form-data", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "empty file, unreadable CSV, or a bad header (`file`/`header` codes)", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
#[post("/leads/import")]
pub async fn import_leads(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: AuthContext,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let text = upload::csv_text(&req, payload).await?;
    let records = read_records(&text)?;
    let (columns, unknown_columns) = read_header(&records[0], &COLUMNS)?;
    let width = records[0].fields.len();
    let tenant = auth.tenant_id;
    let cc = state.settings.default_country_code.clone();
    let projects = state.db.run(move |c| crate::store::projects::names(c, tenant)).await?;
    let mut report = LeadImportReport { total_rows: records.len() - 1, unknown_columns, ..Default::default() };
    let mut valid = Vec::new();
    for r in &records[1..] {
        match check(r, &columns, width, &cc, &projects) {
            Ok(v) => valid.push(v),
            Err(errors) => report.errors.push(RowError { row: r.line, errors }),
        }
    }
    report.failed = report.errors.len();
    while !valid.is_empty() {
        let chunk: Vec<ValidRow> = valid.drain(..valid.len().min(CHUNK)).collect();
        let outcomes = state
            .db
            .run(move |c| {
                let rows: Vec<(NewLead, Option<String>)> =
                    chunk.iter().map(|v| (v.lead.clone(), v.note.clone())).collect();
                let out = write_tx(c, |c| store::insert_batch(c, tenant, &rows))?;
                Ok::<_, diesel::result::Error>(chunk.iter().map(|v| v.row).zip(out).collect::<Vec<_>>())
            })
            .await?;
        for (row, outcome) in outcomes {
            match outcome {
                Ok(_) => report.created += 1,
                Err(lead_id) => report.duplicate_rows.push(DuplicateRow { row, lead_id }),
            }
        }
    }
    report.duplicates = report.duplicate_rows.len();
    Ok(HttpResponse::Ok().json(report))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn codes(e: &FieldErrors) -> BTreeMap<&str, Vec<&str>> {
        e.iter().map(|(k, v)| (k.as_str(), v.iter().map(String::as_str).collect())).collect()
    }

    fn header() -> HashMap<String, usize> {
        read_header(
            &Record { line: 1, fields: vec!["Name".into(), "phone".into(), "project".into(), "status".into()] },
            &COLUMNS,
        )
        .unwrap()
        .0
    }

    #[test]
    fn a_row_reports_every_bad_field() {
        let r = Record { line: 3, fields: vec!["A".into(), "12".into(), "Nowhere".into(), "maybe".into(), "x".into()] };
        let e = check(&r, &header(), 4, "91", &HashMap::from([(1, "Green Acres".into())])).err().unwrap();
        assert_eq!(
            codes(&e),
            BTreeMap::from([
                ("phone", vec!["invalid_e164"]),
                ("project", vec!["not_found"]),
                ("row", vec!["too_many_fields"]),
                ("status", vec!["invalid_choice"]),
            ])
        );
    }

    #[test]
    fn a_cell_holding_nul_fails_its_column() {
        let r = Record { line: 2, fields: vec!["A\0".into(), "9876543210".into(), String::new(), String::new()] };
        let e = check(&r, &header(), 4, "91", &HashMap::new()).err().unwrap();
        assert_eq!(codes(&e), BTreeMap::from([("name", vec!["nul_character"])]));
    }

    #[test]
    fn projects_match_by_id_or_name_and_statuses_by_words() {
        let r = Record {
            line: 2,
            fields: vec!["A".into(), "09876543210".into(), "green acres".into(), "Not Interested".into()],
        };
        let v = check(&r, &header(), 4, "91", &HashMap::from([(7, "Green Acres".into())])).ok().unwrap();
        assert_eq!((v.lead.phone.as_str(), v.lead.project_id), ("+919876543210", Some(7)));
        assert_eq!(v.lead.status.as_deref(), Some("not_interested"));
    }
}
