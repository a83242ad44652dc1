//! The tenant's opt-out (do-not-contact) list: numbers no message of any kind is sent to. Entries
//! come from the API (`api`), CSV imports (`csv`), opt-out keywords (`keyword`) and
//! not-interested clicks (`cta`).

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, delete, get, post, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::auth::AuthContext;
use crate::db::write_tx;
use crate::domain::PhoneNumber;
use crate::error::{ApiError, ApiResult};
use crate::extract::ValidatedJson;
use crate::pagination::{PageQuery, Paginated};
use crate::routes::leads::{RowError, cell, nul_cells, read_phone, read_records};
use crate::routes::{upload, utc};
use crate::state::AppState;
use crate::store::opt_outs::{self as store, OptOut};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_opt_outs).service(create_opt_out).service(import_opt_outs).service(delete_opt_out);
}

/// Where an entry came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OptOutSource {
    Api,
    Csv,
    Keyword,
    Cta,
}

impl OptOutSource {
    fn as_str(self) -> &'static str {
        match self {
            OptOutSource::Api => "api",
            OptOutSource::Csv => "csv",
            OptOutSource::Keyword => "keyword",
            OptOutSource::Cta => "cta",
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OptOutFilter {
    #[param(inline)]
    pub source: Option<OptOutSource>,
}

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOptOutRequest {
    /// E.164, or national digits read with the default country code.
    #[validate(length(min = 1, max = 32))]
    #[schema(min_length = 1, max_length = 32)]
    #[schema(example = "+919876543210")]
    pub phone: String,
    #[validate(length(min = 1, max = 500))]
    #[schema(min_length = 1, max_length = 500)]
    pub reason: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OptOutOut {
    pub id: i64,
    #[schema(example = "+919876543210")]
    pub phone: String,
    pub reason: Option<String>,
    /// `api`, `csv`, `keyword` or `cta`.
    pub source: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<OptOut> for OptOutOut {
    fn from(o: OptOut) -> Self {
        OptOutOut { id: o.id, phone: o.phone, reason: o.reason, source: o.source, created_at: utc(o.created_at) }
    }
}

#[derive(Debug, Default, Serialize, ToSchema)]
pub struct OptOutImportReport {
    pub total_rows: usize,
    pub added: usize,
    /// Rows whose number was already on the list (left as it was).
    pub already_listed: usize,
    pub failed: usize,
    pub errors: Vec<RowError>,
}

/// The tenant's opt-out list, newest first.
#[utoipa::path(tag = "opt-outs", security(("bearer" = [])), params(PageQuery, OptOutFilter), responses((status = 200, body = Paginated<OptOutOut>)))]
#[get("/opt-outs")]
pub async fn list_opt_outs(
    state: web::Data<AppState>,
    auth: AuthContext,
    q: web::Query<PageQuery>,
    f: web::Query<OptOutFilter>,
) -> ApiResult<HttpResponse> {
    let page = q.page()?;
    let source = f.source.map(OptOutSource::as_str);
    let rows = state.db.run(move |c| store::list(c, auth.tenant_id, source, page)).await?;
    Ok(HttpResponse::Ok().json(Paginated::from_rows(rows, page, |o| o.id, OptOutOut::from)))
}

/// Adds a number (source `api`): 201 with the new entry, or 200 with the entry already there.
#[utoipa::path(tag = "opt-outs", security(("bearer" = [])), request_body = CreateOptOutRequest, responses(
    (status = 201, body = OptOutOut, description = "added"),
    (status = 200, body = OptOutOut, description = "the number was already on the list"),
))]
#[post("/opt-outs")]
pub async fn create_opt_out(
    state: web::Data<AppState>,
    auth: AuthContext,
    body: ValidatedJson<CreateOptOutRequest>,
) -> ApiResult<HttpResponse> {
    let req = body.0;
    let phone = read_phone(&state, "phone", &req.phone)?.as_str().to_string();
    let tenant = auth.tenant_id;
    let (entry, added) = state
        .db
        .run(move |c| {
            write_tx(c, |c| {
                let added = store::add(c, tenant, &phone, "api", req.reason.as_deref())?;
                let entry = store::by_phone(c, tenant, &phone)?.ok_or(diesel::result::Error::NotFound)?;
                Ok::<_, diesel::result::Error>((entry, added))
            })
        })
        .await?;
    let mut res = if added { HttpResponse::Created() } else { HttpResponse::Ok() };
    Ok(res.json(OptOutOut::from(entry)))
}

/// Removes an entry, named by its id or by the phone number (`+919876543210`); the number can be
/// messaged again.
#[utoipa::path(tag = "opt-outs", security(("bearer" = [])), params(("id" = String, Path, description = "The entry's id, or an E.164 number")), responses(
    (status = 204, description = "removed"),
    (status = 404, description = "no such entry", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[delete("/opt-outs/{id}")]
pub async fn delete_opt_out(
    state: web::Data<AppState>,
    auth: AuthContext,
    id: web::Path<String>,
) -> ApiResult<HttpResponse> {
    auth.require_admin()?;
    let raw = id.into_inner();
    let (id, phone) = match raw.parse::<i64>() {
        Ok(id) if !raw.starts_with('+') => (Some(id), None),
        _ => {
            let p = PhoneNumber::parse(&raw).map_err(|_| ApiError::not_found("opt-out entry"))?;
            (None, Some(p.as_str().to_string()))
        }
    };
    let tenant = auth.tenant_id;
    if !state.db.run(move |c| store::remove(c, tenant, id, phone.as_deref())).await? {
        return Err(ApiError::not_found("opt-out entry"));
    }
    Ok(HttpResponse::NoContent().finish())
}

/// Adds numbers from a CSV (`text/csv` or the `file` field of `multipart/form-data`): one number per
/// row with an optional reason, `phone[,reason]`; a first row reading `phone` is a header. Each bad
/// row is reported with its line and codes; numbers already listed are counted and left alone.
#[utoipa::path(tag = "opt-outs", security(("bearer" = [])),
    request_body(content = String, content_type = "text/csv", example = "phone,reason\n+919876543210,asked by phone\n9812345678,"),
    responses(
        (status = 200, body = OptOutImportReport),
        (status = 413, description = "more than 4 MiB or 10,000 rows", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 415, description = "neither text/csv nor multipart/form-data", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "empty or unreadable file", body = crate::error::Problem, content_type = "application/problem+json"),
    ))]
#[post("/opt-outs/import")]
pub async fn import_opt_outs(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: AuthContext,
    payload: web::Payload,
) -> ApiResult<HttpResponse> {
    let text = upload::csv_text(&req, payload).await?;
    let records = read_records(&text)?;
    let has_header = records[0].fields.first().is_some_and(|f| f.trim().eq_ignore_ascii_case("phone"));
    let columns = HashMap::from([("phone".to_string(), 0), ("reason".to_string(), 1)]);
    let rows = &records[usize::from(has_header)..];
    let mut report = OptOutImportReport { total_rows: rows.len(), ..Default::default() };
    let mut valid = Vec::new();
    for r in rows {
        let mut errors = nul_cells(r, &columns);
        let phone = cell(r, &columns, "phone").map_or(Err("required"), |p| {
            PhoneNumber::parse_national(p, &state.settings.default_country_code).map_err(|e| e.code())
        });
        let reason = cell(r, &columns, "reason").map(str::to_string);
        if let Err(code) = &phone {
            errors.entry("phone".into()).or_default().push(code.to_string());
        }
        if reason.as_ref().is_some_and(|r| r.chars().count() > 500) {
            errors.entry("reason".into()).or_default().push("too_long".into());
        }
        if r.fields.len() > 2 {
            errors.insert("row".into(), vec!["too_many_fields".into()]);
        }
        match phone {
            Ok(p) if errors.is_empty() => valid.push((p.as_str().to_string(), reason)),
            _ => report.errors.push(RowError { row: r.line, errors }),
        }
    }
    report.failed = report.errors.len();
    let tenant = auth.tenant_id;
    let added = state
        .db
        .run(move |c| {
            write_tx(c, |c| {
                let mut added = 0;
                for (phone, reason) in &valid {
                    added += usize::from(store::add(c, tenant, phone, "csv", reason.as_deref())?);
                }
                Ok::<_, diesel::result::Error>(added)
            })
        })
        .await?;
    report.added = added;
    report.already_listed = report.total_rows - report.failed - added;
    Ok(HttpResponse::Ok().json(report))
}
