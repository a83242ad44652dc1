//! Projects: the brochure and deep-link base campaigns use, and the IVR numbers whose calls belong
//! to each.

mod types;

use actix_web::{HttpResponse, delete, get, patch, post, web};

use crate::auth::AuthContext;
use crate::db::write_tx;
use crate::domain::{PhoneNumber, TenantId};
use crate::error::{ApiError, ApiResult, FieldErrors};
use crate::extract::ValidatedJson;
use crate::media;
use crate::pagination::{PageQuery, Paginated};
use crate::providers::message::MediaKind;
use crate::state::AppState;
use crate::store::projects::{self as store, ProjectConflict, ProjectFields};
pub use types::*;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_projects)
        .service(create_project)
        .service(get_project)
        .service(update_project)
        .service(delete_project);
}

/// Checks the URLs (the brochure must be a reachable document on a public address) and
/// normalises the IVR numbers; every problem is reported at once.
async fn checked(
    state: &AppState,
    brochure: Option<&str>,
    deep_link: Option<&str>,
    numbers: Option<&[String]>,
) -> ApiResult<Option<Vec<String>>> {
    let mut errors = FieldErrors::new();
    if let Some(url) = brochure
        && let Err(code) = media::check(MediaKind::Document, url, state.settings.allow_private_urls).await
    {
        errors.entry("brochure_url".into()).or_default().push(code.into());
    }
    if let Some(url) = deep_link {
        let ok = reqwest::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
        if !ok {
            errors.entry("deep_link_base_url".into()).or_default().push("invalid_url".into());
        }
    }
    let mut normalised = Vec::new();
    for (i, raw) in numbers.unwrap_or_default().iter().enumerate() {
        match PhoneNumber::parse_national(raw, &state.settings.default_country_code) {
            Ok(p) if normalised.contains(&p.as_str().to_string()) => {
                errors.entry(format!("ivr_numbers[{i}]")).or_default().push("duplicate".into());
            }
            Ok(p) => normalised.push(p.as_str().to_string()),
            Err(e) => errors.entry(format!("ivr_numbers[{i}]")).or_default().push(e.code().into()),
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    Ok(numbers.map(|_| normalised))
}

fn conflict(c: ProjectConflict) -> ApiError {
    match c {
        ProjectConflict::Name => ApiError::conflict("project_name_taken", "another project already has this name"),
        ProjectConflict::IvrNumber(n) => ApiError::conflict(
            "ivr_number_taken",
            format!(
                "the IVR number {} belongs to another project",
                PhoneNumber::parse(&n).map(|p| p.masked()).unwrap_or(n)
            ),
        ),
    }
}

async fn found(state: &AppState, tenant: TenantId, id: i64) -> ApiResult<store::Project> {
    state.db.run(move |c| store::get(c, tenant, id)).await?.ok_or_else(|| ApiError::not_found("project"))
}

/// Lists the tenant's projects, newest first.
#[utoipa::path(tag = "projects", security(("bearer" = [])), params(PageQuery), responses((status = 200, body = Paginated<ProjectOut>)))]
#[get("/projects")]
pub async fn list_projects(
    state: web::Data<AppState>,
    auth: AuthContext,
    q: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let page = q.page()?;
    let rows = state.db.run(move |c| store::list(c, auth.tenant_id, page)).await?;
    Ok(HttpResponse::Ok().json(Paginated::from_rows(rows, page, |p| p.row.id, ProjectOut::from)))
}

/// Creates a project. Its IVR numbers must not belong to another project of the tenant.
#[utoipa::path(tag = "projects", security(("bearer" = [])), request_body = CreateProjectRequest, responses(
    (status = 201, body = ProjectOut),
    (status = 409, description = "the name or an IVR number is taken", body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 422, description = "invalid fields (e.g. a brochure that is not a reachable PDF)", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/projects")]
pub async fn create_project(
    state: web::Data<AppState>,
    auth: AuthContext,
    body: ValidatedJson<CreateProjectRequest>,
) -> ApiResult<HttpResponse> {
    auth.require_admin()?;
    let req = body.0;
    let numbers =
        checked(&state, req.brochure_url.as_deref(), req.deep_link_base_url.as_deref(), Some(&req.ivr_numbers)).await?;
    let fields = ProjectFields {
        name: Some(req.name.trim().to_string()),
        brochure_url: Some(req.brochure_url),
        deep_link_base_url: Some(req.deep_link_base_url),
        ivr_numbers: numbers,
    };
    let created = state.db.run(move |c| write_tx(c, |c| store::insert(c, auth.tenant_id, fields))).await?;
    Ok(HttpResponse::Created().json(ProjectOut::from(created.map_err(conflict)?)))
}

/// One project with its IVR numbers.
#[utoipa::path(tag = "projects", security(("bearer" = [])), params(("id" = i64, Path)), responses(
    (status = 200, body = ProjectOut),
    (status = 404, description = "no such project", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[get("/projects/{id}")]
pub async fn get_project(state: web::Data<AppState>, auth: AuthContext, id: web::Path<i64>) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(ProjectOut::from(found(&state, auth.tenant_id, id.into_inner()).await?)))
}

/// Changes a project; `ivr_numbers` replaces the whole list.
#[utoipa::path(tag = "projects", security(("bearer" = [])), params(("id" = i64, Path)), request_body = UpdateProjectRequest, responses(
    (status = 200, body = ProjectOut),
    (status = 404, description = "no such project", body = crate::error::Problem, content_type = "application/problem+json"),
    (status = 409, description = "the name or an IVR number is taken", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[patch("/projects/{id}")]
pub async fn update_project(
    state: web::Data<AppState>,
    auth: AuthContext,
    id: web::Path<i64>,
    body: ValidatedJson<UpdateProjectRequest>,
) -> ApiResult<HttpResponse> {
    auth.require_admin()?;
    let id = id.into_inner();
    found(&state, auth.tenant_id, id).await?;
    let req = body.0;
    let brochure = req.brochure_url.clone().flatten();
    let deep_link = req.deep_link_base_url.clone().flatten();
    let numbers = checked(&state, brochure.as_deref(), deep_link.as_deref(), req.ivr_numbers.as_deref()).await?;
    let fields = ProjectFields {
        name: req.name.map(|n| n.trim().to_string()),
        brochure_url: req.brochure_url,
        deep_link_base_url: req.deep_link_base_url,
        ivr_numbers: numbers,
    };
    let updated = state.db.run(move |c| write_tx(c, |c| store::update(c, auth.tenant_id, id, fields))).await?;
    let project = updated.ok_or_else(|| ApiError::not_found("project"))?.map_err(conflict)?;
    Ok(HttpResponse::Ok().json(ProjectOut::from(project)))
}

/// Deletes a project; its leads and calls stay, without a project.
#[utoipa::path(tag = "projects", security(("bearer" = [])), params(("id" = i64, Path)), responses(
    (status = 204, description = "deleted"),
    (status = 404, description = "no such project", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[delete("/projects/{id}")]
pub async fn delete_project(
    state: web::Data<AppState>,
    auth: AuthContext,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    auth.require_admin()?;
    let id = id.into_inner();
    let deleted = state.db.run(move |c| store::delete(c, auth.tenant_id, id)).await?;
    if !deleted {
        return Err(ApiError::not_found("project"));
    }
    Ok(HttpResponse::NoContent().finish())
}
