//! Message templates of an account: drafts linted before anything reaches the provider,
//! submission for approval, deletion (also at the provider) and sync.

mod generate;
pub mod types;

use actix_web::{HttpResponse, delete, get, patch, post, web};

use self::types::*;
use crate::auth::AuthContext;
use crate::db::now;
use crate::domain::TenantId;
use crate::domain::account::ProviderKind;
use crate::domain::template::{TemplateDraft, lint};
use crate::error::{ApiError, ApiResult};
use crate::extract::ValidatedJson;
use crate::pagination::{PageQuery, Paginated};
use crate::state::AppState;
use crate::store::accounts::Account;
use crate::store::templates::{NewTemplate, Template, TemplateChanges};
use crate::{remote, store};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(sync_templates)
        .service(list_templates)
        .service(create_template)
        .service(get_template)
        .service(update_template)
        .service(delete_template)
        .service(submit_template)
        .service(generate::generate_template);
}

async fn template(state: &AppState, tenant: TenantId, account: i64, id: i64) -> ApiResult<Template> {
    state
        .db
        .run(move |c| store::templates::get(c, tenant, account, id))
        .await?
        .ok_or_else(|| ApiError::not_found("template"))
}

/// The account and template a write names, for an owner or admin.
async fn writable(state: &AppState, auth: &AuthContext, (id, tid): (i64, i64)) -> ApiResult<(Account, Template)> {
    auth.require_admin()?;
    let a = crate::routes::accounts::load(state, auth.tenant_id, id).await?;
    Ok((a, template(state, auth.tenant_id, id, tid).await?))
}

fn check(draft: &TemplateDraft, a: &Account) -> ApiResult<()> {
    let errors = lint(draft, ProviderKind::parse(&a.provider));
    if errors.is_empty() { Ok(()) } else { Err(ApiError::validation(errors)) }
}

fn conflict(e: diesel::result::Error) -> ApiError {
    match e {
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _) => {
            ApiError::conflict("template_exists", "this account already has a template with this name and language")
        }
        other => other.into(),
    }
}

/// Lists an account's templates (filters: status, category, language, name).
#[utoipa::path(tag = "templates", security(("bearer" = [])), params(("id" = i64, Path), PageQuery, TemplateFilter), responses((status = 200, body = Paginated<TemplateOut>)))]
#[get("/accounts/{id}/templates")]
pub async fn list_templates(
    state: web::Data<AppState>,
    auth: AuthContext,
    id: web::Path<i64>,
    q: web::Query<PageQuery>,
    f: web::Query<TemplateFilter>,
) -> ApiResult<HttpResponse> {
    let (id, page, f) = (id.into_inner(), q.page()?, f.into_inner());
    crate::routes::accounts::load(&state, auth.tenant_id, id).await?;
    let filter = store::templates::ListFilter {
        status: f.status.map(|s| s.to_uppercase()),
        category: f.category.map(|s| s.to_uppercase()),
        language: f.language,
        name: f.name,
    };
    let rows = state.db.run(move |c| store::templates::list(c, auth.tenant_id, id, &filter, page)).await?;
    Ok(HttpResponse::Ok().json(Paginated::from_rows(rows, page, |t| t.id, TemplateOut::from)))
}

/// Creates a draft. The linter runs first and reports every problem at once.
#[utoipa::path(tag = "templates", security(("bearer" = [])), params(("id" = i64, Path)), request_body = TemplateDraft, responses(
    (status = 201, body = TemplateOut),
    (status = 409, description = "same name and language exist", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/accounts/{id}/templates")]
pub async fn create_template(
    state: web::Data<AppState>,
    auth: AuthContext,
    id: web::Path<i64>,
    body: ValidatedJson<TemplateDraft>,
) -> ApiResult<HttpResponse> {
    auth.require_admin()?;
    let (id, draft) = (id.into_inner(), body.0);
    let a = crate::routes::accounts::load(&state, auth.tenant_id, id).await?;
    check(&draft, &a)?;
    let ts = now();
    let row = state
        .db
        .run(move |c| {
            store::templates::insert(
                c,
                NewTemplate {
                    tenant_id: auth.tenant_id.0,
                    account_id: id,
                    name: draft.name,
                    language: draft.language,
                    category: draft.category.as_str().into(),
                    status: "DRAFT".into(),
                    provider_template_id: None,
                    components: serde_json::to_string(&draft.components).unwrap_or_default(),
                    parameter_format: if draft.parameter_format == crate::domain::template::ParameterFormat::Named {
                        "NAMED"
                    } else {
                        "POSITIONAL"
                    }
                    .into(),
                    synced_at: None,
                    created_at: ts,
                    updated_at: ts,
                },
            )
            .map_err(conflict)
        })
        .await?;
    Ok(HttpResponse::Created().json(TemplateOut::from(row)))
}

/// One template.
#[utoipa::path(tag = "templates", security(("bearer" = [])), params(("id" = i64, Path), ("template_id" = i64, Path)), responses((status = 200, body = TemplateOut)))]
#[get("/accounts/{id}/templates/{template_id}")]
pub async fn get_template(
    state: web::Data<AppState>,
    auth: AuthContext,
    path: web::Path<(i64, i64)>,
) -> ApiResult<HttpResponse> {
    let (id, tid) = path.into_inner();
    Ok(HttpResponse::Ok().json(TemplateOut::from(template(&state, auth.tenant_id, id, tid).await?)))
}

/// Replaces a draft (or a rejected template, to fix and resubmit).
#[utoipa::path(tag = "templates", security(("bearer" = [])), params(("id" = i64, Path), ("template_id" = i64, Path)), request_body = TemplateDraft, responses(
    (status = 200, body = TemplateOut),
    (status = 409, description = "only drafts and rejected templates can be edited", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[patch("/accounts/{id}/templates/{template_id}")]
pub async fn update_template(
    state: web::Data<AppState>,
    auth: AuthContext,
    path: web::Path<(i64, i64)>,
    body: ValidatedJson<TemplateDraft>,
) -> ApiResult<HttpResponse> {
    let ((a, t), draft) = (writable(&state, &auth, path.into_inner()).await?, body.0);
    let tid = t.id;
    if t.status != "DRAFT" && t.status != "REJECTED" {
        return Err(ApiError::conflict(
            "template_not_editable",
            format!("a {} template cannot be edited; create a new one", t.status),
        ));
    }
    check(&draft, &a)?;
    let changes = TemplateChanges {
        name: Some(draft.name),
        language: Some(draft.language),
        category: Some(draft.category.as_str().into()),
        components: Some(serde_json::to_string(&draft.components).unwrap_or_default()),
        ..Default::default()
    };
    let row = state.db.run(move |c| store::templates::update(c, tid, changes).map_err(conflict)).await?;
    Ok(HttpResponse::Ok().json(TemplateOut::from(row)))
}

/// Deletes a template, at the provider too when it was submitted.
#[utoipa::path(tag = "templates", security(("bearer" = [])), params(("id" = i64, Path), ("template_id" = i64, Path)), responses(
    (status = 204, description = "deleted"),
    crate::openapi::ProviderProblems,
))]
#[delete("/accounts/{id}/templates/{template_id}")]
pub async fn delete_template(
    state: web::Data<AppState>,
    auth: AuthContext,
    path: web::Path<(i64, i64)>,
) -> ApiResult<HttpResponse> {
    let (a, t) = writable(&state, &auth, path.into_inner()).await?;
    if t.provider_template_id.is_some() {
        remote::delete_template(&state, &a, &t).await?;
    }
    let tid = t.id;
    state.db.run(move |c| store::templates::delete(c, tid)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Submits a draft for approval: DRAFT → PENDING (then APPROVED or REJECTED by the provider).
#[utoipa::path(tag = "templates", security(("bearer" = [])), params(("id" = i64, Path), ("template_id" = i64, Path)), responses(
    (status = 200, body = TemplateOut),
    crate::openapi::ProviderProblems,
    (status = 409, description = "already submitted (`template_already_submitted`), or the account lacks a credential or id the call needs (`account_credentials_missing`)", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/accounts/{id}/templates/{template_id}/submit")]
pub async fn submit_template(
    state: web::Data<AppState>,
    auth: AuthContext,
    path: web::Path<(i64, i64)>,
) -> ApiResult<HttpResponse> {
    let (a, t) = writable(&state, &auth, path.into_inner()).await?;
    if t.status != "DRAFT" && t.status != "REJECTED" {
        return Err(ApiError::conflict("template_already_submitted", format!("the template is {}", t.status)));
    }
    let row = remote::submit_template(&state, &a, &t).await?;
    Ok(HttpResponse::Ok().json(TemplateOut::from(row)))
}

/// Pulls every template and its status from the provider: new ones are created, missing ones
/// marked `DELETED`.
#[utoipa::path(tag = "templates", security(("bearer" = [])), params(("id" = i64, Path)), responses(
    (status = 200, body = SyncReport),
    crate::openapi::ProviderProblems,
))]
#[post("/accounts/{id}/templates/sync")]
pub async fn sync_templates(
    state: web::Data<AppState>,
    auth: AuthContext,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    auth.require_admin()?;
    let a = crate::routes::accounts::load(&state, auth.tenant_id, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(remote::sync_templates(&state, &a).await?))
}
