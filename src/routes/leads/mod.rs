//! Leads: one per phone number in a tenant, with notes, a status and a stage; created by hand,
//! by IVR calls, CSV imports and WhatsApp contacts.

mod import;
mod types;

use actix_web::http::header;
use actix_web::{HttpResponse, ResponseError, delete, get, patch, post, web};

use crate::auth::AuthContext;
use crate::db::{DbConn, write_tx};
use crate::domain::{PhoneNumber, TenantId};
use crate::error::{ApiError, ApiResult};
use crate::extract::ValidatedJson;
use crate::pagination::{PageQuery, Paginated};
use crate::state::AppState;
use crate::store::leads::{self as store, LeadChanges, LeadFilter, NewLead};
pub use import::*;
pub use types::*;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_leads)
        .service(create_lead)
        .service(import_leads)
        .service(get_lead)
        .service(update_lead)
        .service(delete_lead)
        .service(list_lead_notes)
        .service(create_lead_note);
}

/// Reads a phone number as E.164 or national digits (422 on `field` otherwise).
pub fn read_phone(state: &AppState, field: &str, raw: &str) -> ApiResult<PhoneNumber> {
    PhoneNumber::parse_national(raw, &state.settings.default_country_code).map_err(|e| ApiError::field(field, e.code()))
}

/// 422 on `project_id` unless the project is the tenant's.
fn check_project(c: &mut DbConn, tenant: TenantId, project: Option<i64>) -> ApiResult<()> {
    match project {
        Some(id) if !crate::store::projects::names(c, tenant)?.contains_key(&id) => {
            Err(ApiError::field("project_id", "not_found"))
        }
        _ => Ok(()),
    }
}

async fn found(state: &AppState, tenant: TenantId, id: i64) -> ApiResult<store::LeadRow> {
    state.db.run(move |c| store::get(c, tenant, id)).await?.ok_or_else(|| ApiError::not_found("lead"))
}

/// Lists the tenant's leads, newest first.
#[utoipa::path(tag = "leads", security(("bearer" = [])), params(PageQuery, LeadFilterQuery), responses((status = 200, body = Paginated<LeadOut>)))]
#[get("/leads")]
pub async fn list_leads(
    state: web::Data<AppState>,
    auth: AuthContext,
    q: web::Query<PageQuery>,
    f: web::Query<LeadFilterQuery>,
) -> ApiResult<HttpResponse> {
    let page = q.page()?;
    let f = f.into_inner();
    let phone = f.phone.as_deref().map(|p| read_phone(&state, "phone", p)).transpose()?;
    let filter = LeadFilter {
        status: f.status.map(|s| s.as_str().to_string()),
        project_id: f.project_id,
        source: f.source.map(|s| s.as_str().to_string()),
        phone: phone.map(|p| p.as_str().to_string()),
        q: f.q.filter(|q| !q.trim().is_empty()).map(|q| q.trim().to_string()),
    };
    let rows = state.db.run(move |c| store::list(c, auth.tenant_id, &filter, page)).await?;
    Ok(HttpResponse::Ok().json(Paginated::from_rows(rows, page, |l| l.id, LeadOut::from)))
}

/// Creates a lead (source `api`). A phone number the tenant already has is a 409 whose detail and
/// `Location` name the existing lead: leads are unique per phone number.
#[utoipa::path(tag = "leads", security(("bearer" = [])), request_body = CreateLeadRequest, responses(
    (status = 201, body = LeadOut),
    (status = 409, description = "a lead with this phone number exists (`lead_exists`; `Location` names it)", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/leads")]
pub async fn create_lead(
    state: web::Data<AppState>,
    auth: AuthContext,
    body: ValidatedJson<CreateLeadRequest>,
) -> ApiResult<HttpResponse> {
    let req = body.0;
    let phone = read_phone(&state, "phone", &req.phone)?;
    let tenant = auth.tenant_id;
    let new = NewLead {
        project_id: req.project_id,
        name: req.name,
        phone: phone.as_str().to_string(),
        source: "api".into(),
        status: req.status.map(|s| s.as_str().to_string()),
        stage: req.stage,
    };
    let outcome = state
        .db
        .run(move |c| {
            write_tx(c, |c| {
                check_project(c, tenant, new.project_id)?;
                match store::insert_new(c, tenant, &new)? {
                    Some(id) => Ok(Ok(store::get(c, tenant, id)?.ok_or_else(|| ApiError::not_found("lead"))?)),
                    None => Ok::<_, ApiError>(Err(store::find_by_phone(c, tenant, &new.phone)?.map_or(0, |l| l.id))),
                }
            })
        })
        .await?;
    match outcome {
        Ok(lead) => Ok(HttpResponse::Created()
            .insert_header((header::LOCATION, format!("/api/v1/leads/{}", lead.id)))
            .json(LeadOut::from(lead))),
        Err(existing) => {
            let err = ApiError::conflict("lead_exists", format!("lead {existing} already has this phone number"));
            let mut res = err.error_response();
            if let Ok(v) = header::HeaderValue::from_str(&format!("/api/v1/leads/{existing}")) {
                res.headers_mut().insert(header::LOCATION, v);
            }
            Ok(res)
        }
    }
}

/// One lead.
#[utoipa::path(tag = "leads", security(("bearer" = [])), params(("id" = i64, Path)), responses(
    (status = 200, body = LeadOut),
    (status = 404, description = "no such lead", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[get("/leads/{id}")]
pub async fn get_lead(state: web::Data<AppState>, auth: AuthContext, id: web::Path<i64>) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(LeadOut::from(found(&state, auth.tenant_id, id.into_inner()).await?)))
}

/// Changes a lead's name, project, status, stage or follow-up flag.
#[utoipa::path(tag = "leads", security(("bearer" = [])), params(("id" = i64, Path)), request_body = UpdateLeadRequest, responses(
    (status = 200, body = LeadOut),
    (status = 404, description = "no such lead", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[patch("/leads/{id}")]
pub async fn update_lead(
    state: web::Data<AppState>,
    auth: AuthContext,
    id: web::Path<i64>,
    body: ValidatedJson<UpdateLeadRequest>,
) -> ApiResult<HttpResponse> {
    let (tenant, id, req) = (auth.tenant_id, id.into_inner(), body.0);
    let updated = state
        .db
        .run(move |c| {
            write_tx(c, |c| {
                store::get(c, tenant, id)?.ok_or_else(|| ApiError::not_found("lead"))?;
                check_project(c, tenant, req.project_id.flatten())?;
                let changes = LeadChanges {
                    name: req.name,
                    project_id: req.project_id,
                    status: req.status.map(|s| s.as_str().to_string()),
                    stage: req.stage,
                    follow_up: req.follow_up,
                    updated_at: None,
                };
                store::update(c, tenant, id, changes)?.ok_or_else(|| ApiError::not_found("lead"))
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(LeadOut::from(updated)))
}

/// Deletes a lead with its notes (its IVR calls stay, unlinked).
#[utoipa::path(tag = "leads", security(("bearer" = [])), params(("id" = i64, Path)), responses(
    (status = 204, description = "deleted"),
    (status = 404, description = "no such lead", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[delete("/leads/{id}")]
pub async fn delete_lead(state: web::Data<AppState>, auth: AuthContext, id: web::Path<i64>) -> ApiResult<HttpResponse> {
    let (tenant, id) = (auth.tenant_id, id.into_inner());
    if !state.db.run(move |c| store::delete(c, tenant, id)).await? {
        return Err(ApiError::not_found("lead"));
    }
    Ok(HttpResponse::NoContent().finish())
}

/// A lead's notes, newest first.
#[utoipa::path(tag = "leads", security(("bearer" = [])), params(("id" = i64, Path), PageQuery), responses(
    (status = 200, body = Paginated<NoteOut>),
    (status = 404, description = "no such lead", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[get("/leads/{id}/notes")]
pub async fn list_lead_notes(
    state: web::Data<AppState>,
    auth: AuthContext,
    id: web::Path<i64>,
    q: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let page = q.page()?;
    let (tenant, id) = (auth.tenant_id, id.into_inner());
    found(&state, tenant, id).await?;
    let rows = state.db.run(move |c| store::notes(c, tenant, id, page)).await?;
    Ok(HttpResponse::Ok().json(Paginated::from_rows(rows, page, |n| n.id, NoteOut::from)))
}

/// Adds a timestamped note; its source is `user` for a person's token and `api` for an API key.
#[utoipa::path(tag = "leads", security(("bearer" = [])), params(("id" = i64, Path)), request_body = CreateNoteRequest, responses(
    (status = 201, body = NoteOut),
    (status = 404, description = "no such lead", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/leads/{id}/notes")]
pub async fn create_lead_note(
    state: web::Data<AppState>,
    auth: AuthContext,
    id: web::Path<i64>,
    body: ValidatedJson<CreateNoteRequest>,
) -> ApiResult<HttpResponse> {
    let (tenant, id) = (auth.tenant_id, id.into_inner());
    let source = if auth.api_key_id.is_some() { "api" } else { "user" };
    let text = body.0.text;
    let note = state
        .db
        .run(move |c| {
            write_tx(c, |c| {
                store::get(c, tenant, id)?.ok_or_else(|| ApiError::not_found("lead"))?;
                Ok::<_, ApiError>(store::add_note(c, tenant, id, source, &text)?)
            })
        })
        .await?;
    Ok(HttpResponse::Created().json(NoteOut::from(note)))
}
