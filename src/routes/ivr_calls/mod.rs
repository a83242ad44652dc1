//! IVR call logs in: one call or a batch of up to 1,000. Each call is linked to its caller's lead
//! (created when missing, with a note) and to the project that owns the dialled number; a call
//! already stored (same caller and start time) is reported as a duplicate and changes nothing.

mod types;

use actix_web::{HttpResponse, get, post, web};

use crate::auth::AuthContext;
use crate::db::write_tx;
use crate::domain::{PhoneNumber, TenantId};
use crate::error::{ApiError, ApiResult};
use crate::extract::ValidatedJson;
use crate::pagination::{PageQuery, Paginated};
use crate::state::AppState;
use crate::store::ivr_calls::{self as store, CallFilter, Ingested, NewCall};
pub use types::*;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_ivr_calls).service(create_ivr_call).service(create_ivr_call_batch).service(get_ivr_call);
}

/// Normalises the numbers of each call; a dialled number that is not a phone number is refused
/// (the whole batch, with every failing call's field named).
fn normalise(calls: Vec<IvrCallIn>, country: &str, field: impl Fn(usize) -> String) -> ApiResult<Vec<NewCall>> {
    let mut errors = crate::error::FieldErrors::new();
    let mut out = Vec::with_capacity(calls.len());
    for (i, c) in calls.into_iter().enumerate() {
        let caller = PhoneNumber::parse_national(&c.caller_id_number, country);
        let to = match PhoneNumber::parse_national(&c.call_to_number, country) {
            Ok(p) => p.as_str().to_string(),
            Err(e) => {
                errors.entry(field(i)).or_default().push(e.code().into());
                continue;
            }
        };
        out.push(NewCall {
            caller_valid: caller.is_ok(),
            caller_id_number: caller
                .map(|p| p.as_str().to_string())
                .unwrap_or_else(|_| c.caller_id_number.trim().into()),
            call_to_number: to,
            duration: c.duration,
            start_stamp: c.start_stamp,
        });
    }
    if errors.is_empty() { Ok(out) } else { Err(ApiError::validation(errors)) }
}

async fn ingest(state: &AppState, tenant: TenantId, calls: Vec<NewCall>) -> ApiResult<Vec<Ingested>> {
    state.db.run(move |c| write_tx(c, |c| store::ingest(c, tenant, &calls))).await
}

fn ingested(i: Ingested) -> IngestedCallOut {
    IngestedCallOut { call: i.call.into(), duplicate: i.duplicate, lead_created: i.lead_created }
}

/// Stores one call: 201 when new, 200 with the stored call when it is a duplicate.
#[utoipa::path(tag = "ivr-calls", security(("bearer" = [])), request_body = IvrCallIn, responses(
    (status = 201, body = IngestedCallOut),
    (status = 200, description = "the call was already stored", body = IngestedCallOut),
))]
#[post("/ivr-calls")]
pub async fn create_ivr_call(
    state: web::Data<AppState>,
    auth: AuthContext,
    body: ValidatedJson<IvrCallIn>,
) -> ApiResult<HttpResponse> {
    let calls = normalise(vec![body.0], &state.settings.default_country_code, |_| "call_to_number".into())?;
    let one = ingest(&state, auth.tenant_id, calls).await?.pop().ok_or_else(|| ApiError::internal("no call stored"))?;
    let status = if one.duplicate { actix_web::http::StatusCode::OK } else { actix_web::http::StatusCode::CREATED };
    Ok(HttpResponse::build(status).json(ingested(one)))
}

/// Stores up to 1,000 calls in one transaction: all of them, or none when one is invalid.
#[utoipa::path(tag = "ivr-calls", security(("bearer" = [])), request_body = IvrCallBatch, responses(
    (status = 200, body = IvrBatchOut),
))]
#[post("/ivr-calls/batch")]
pub async fn create_ivr_call_batch(
    state: web::Data<AppState>,
    auth: AuthContext,
    body: ValidatedJson<IvrCallBatch>,
) -> ApiResult<HttpResponse> {
    let calls =
        normalise(body.0.calls, &state.settings.default_country_code, |i| format!("calls[{i}].call_to_number"))?;
    let results = ingest(&state, auth.tenant_id, calls).await?;
    let out = IvrBatchOut {
        created: results.iter().filter(|r| !r.duplicate).count(),
        duplicates: results.iter().filter(|r| r.duplicate).count(),
        leads_created: results.iter().filter(|r| r.lead_created).count(),
        invalid_callers: results.iter().filter(|r| !r.duplicate && r.call.lead_id.is_none()).count(),
        calls: results.into_iter().map(ingested).collect(),
    };
    Ok(HttpResponse::Ok().json(out))
}

/// Lists the tenant's calls, newest first.
#[utoipa::path(tag = "ivr-calls", security(("bearer" = [])), params(PageQuery, IvrCallQuery), responses((status = 200, body = Paginated<IvrCallOut>)))]
#[get("/ivr-calls")]
pub async fn list_ivr_calls(
    state: web::Data<AppState>,
    auth: AuthContext,
    q: web::Query<PageQuery>,
    f: web::Query<IvrCallQuery>,
) -> ApiResult<HttpResponse> {
    let page = q.page()?;
    let f = f.into_inner();
    let caller = match &f.caller {
        Some(raw) => Some(
            PhoneNumber::parse_national(raw, &state.settings.default_country_code)
                .map(|p| p.as_str().to_string())
                .map_err(|e| ApiError::field("caller", e.code()))?,
        ),
        None => None,
    };
    let filter = CallFilter {
        from: f.from.map(|d| d.and_time(chrono::NaiveTime::MIN)),
        to: f.to.and_then(|d| d.succ_opt()).map(|d| d.and_time(chrono::NaiveTime::MIN)),
        status: f.status.map(|s| s.as_str().to_string()),
        project_id: f.project_id,
        caller,
    };
    let rows = state.db.run(move |c| store::list(c, auth.tenant_id, filter, page)).await?;
    Ok(HttpResponse::Ok().json(Paginated::from_rows(rows, page, |r| r.id, IvrCallOut::from)))
}

/// One call.
#[utoipa::path(tag = "ivr-calls", security(("bearer" = [])), params(("id" = i64, Path)), responses(
    (status = 200, body = IvrCallOut),
    (status = 404, description = "no such call", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[get("/ivr-calls/{id}")]
pub async fn get_ivr_call(
    state: web::Data<AppState>,
    auth: AuthContext,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let call =
        state.db.run(move |c| store::get(c, auth.tenant_id, id)).await?.ok_or_else(|| ApiError::not_found("call"))?;
    Ok(HttpResponse::Ok().json(IvrCallOut::from(call)))
}
