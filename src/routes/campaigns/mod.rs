//! Template campaigns: drafts, dry-run preview (JSON or CSV), start/pause/resume/cancel,
//! progress, and the per-recipient results (JSON or CSV, masked phones unless an admin asks).

pub mod types;

use actix_web::{HttpRequest, HttpResponse, get, post, web};

use crate::auth::AuthContext;
use crate::campaigns::audience::{self, Resolution};
use crate::campaigns::control::{self, Action, Draft};
use crate::campaigns::definition::{Definition, HeaderMediaKind};
use crate::campaigns::{csv, render};
use crate::domain::TenantId;
use crate::error::{ApiError, ApiResult};
use crate::extract::ValidatedJson;
use crate::pagination::{PageQuery, Paginated};
use crate::providers::message::MediaKind;
use crate::state::AppState;
use crate::store;
use types::*;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_campaigns)
        .service(create_campaign)
        .service(get_campaign)
        .service(preview_campaign)
        .service(start_campaign)
        .service(pause_campaign)
        .service(resume_campaign)
        .service(cancel_campaign)
        .service(resend_unconfirmed)
        .service(list_campaign_recipients);
}

fn wants_csv(req: &HttpRequest) -> bool {
    req.headers()
        .get(actix_web::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/csv"))
}

fn csv_response(name: String, body: String) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(("content-disposition", format!("attachment; filename=\"{name}\"")))
        .body(body)
}

async fn out(state: &AppState, tenant: TenantId, id: i64, with_progress: bool) -> ApiResult<CampaignOut> {
    state
        .db
        .run(move |c| {
            let campaign = control::require(c, tenant, id)?;
            let d = control::definition(&campaign)?;
            let progress =
                if with_progress && campaign.status != "draft" { Some(control::progress(c, &campaign)?) } else { None };
            Ok::<_, ApiError>(CampaignOut::new(campaign, d, progress))
        })
        .await
}

/// The tenant's campaigns, newest first.
#[utoipa::path(tag = "campaigns", security(("bearer" = [])), params(PageQuery), responses((status = 200, body = Paginated<CampaignOut>)))]
#[get("/campaigns")]
pub async fn list_campaigns(
    state: web::Data<AppState>,
    auth: AuthContext,
    q: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let page = q.page()?;
    let rows = state.db.run(move |c| store::campaigns::list(c, auth.tenant_id, page)).await?;
    let mut out = Vec::with_capacity(rows.len());
    for c in rows {
        let d = control::definition(&c)?;
        out.push(CampaignOut::new(c, d, None));
    }
    Ok(HttpResponse::Ok().json(Paginated::from_rows(out, page, |c| c.id, |c| c)))
}

/// Creates a draft campaign. Nothing is resolved or sent until `preview` / `start`.
#[utoipa::path(tag = "campaigns", security(("bearer" = [])), request_body = CreateCampaignRequest,
    responses((status = 201, body = CampaignOut)))]
#[post("/campaigns")]
pub async fn create_campaign(
    state: web::Data<AppState>,
    auth: AuthContext,
    body: ValidatedJson<CreateCampaignRequest>,
) -> ApiResult<HttpResponse> {
    auth.require_admin()?;
    let req = body.0;
    if let Some(h) = &req.header_media {
        let kind = match h.kind {
            HeaderMediaKind::Image => MediaKind::Image,
            HeaderMediaKind::Video => MediaKind::Video,
            HeaderMediaKind::Document => MediaKind::Document,
        };
        if let Err(code) = crate::media::check(kind, &h.url, state.settings.allow_private_urls).await {
            return Err(ApiError::field("header_media.url", code));
        }
    }
    let tenant = auth.tenant_id;
    let draft = Draft {
        name: req.name,
        account_id: req.account_id,
        phone_number_id: req.phone_number_id,
        template_name: req.template.name,
        template_language: req.template.language,
        rate_mps: req.rate_mps,
        definition: Definition {
            header_media: req.header_media,
            variables: req.variables,
            cta: req.cta,
            audience: req.audience,
        },
    };
    let created = state
        .db
        .run(move |c| {
            let row = control::create(c, tenant, draft)?;
            let d = control::definition(&row)?;
            Ok::<_, ApiError>(CampaignOut::new(row, d, None))
        })
        .await?;
    Ok(HttpResponse::Created().insert_header(("location", format!("/api/v1/campaigns/{}", created.id))).json(created))
}

/// One campaign with its progress: counts by status (skipped and failed by reason), rates, ETA.
#[utoipa::path(tag = "campaigns", security(("bearer" = [])), params(("id" = i64, Path)), responses((status = 200, body = CampaignOut)))]
#[get("/campaigns/{id}")]
pub async fn get_campaign(
    state: web::Data<AppState>,
    auth: AuthContext,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(out(&state, auth.tenant_id, id.into_inner(), true).await?))
}

/// Resolves the audience and renders messages without storing or sending anything.
async fn dry_run(
    state: &AppState,
    tenant: TenantId,
    id: i64,
) -> ApiResult<(Definition, store::campaigns::CampaignRow, Resolution)> {
    state
        .db
        .run(move |c| {
            let campaign = control::require(c, tenant, id)?;
            let d = control::definition(&campaign)?;
            let res = audience::resolve(c, tenant, &d.audience, id, &campaign.definition_hash, false)?;
            Ok::<_, ApiError>((d, campaign, res))
        })
        .await
}

/// A dry run: counts by project × call status, exclusions by reason, and the first rendered
/// messages exactly as they would be sent; with `Accept: text/csv`, every candidate (masked phones).
#[utoipa::path(tag = "campaigns", security(("bearer" = [])), params(("id" = i64, Path), PreviewQuery),
    responses((status = 200, body = PreviewOut, description = "JSON, or text/csv with Accept: text/csv")))]
#[post("/campaigns/{id}/preview")]
pub async fn preview_campaign(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: AuthContext,
    id: web::Path<i64>,
    q: web::Query<PreviewQuery>,
) -> ApiResult<HttpResponse> {
    let samples = q.samples.unwrap_or(5);
    if samples > 100 {
        return Err(ApiError::field("samples", "out_of_range"));
    }
    let id = id.into_inner();
    let (d, campaign, res) = dry_run(&state, auth.tenant_id, id).await?;
    let ctx = render::Context {
        definition: &d,
        template_name: &campaign.template_name,
        language: &campaign.template_language,
        cta: &state.cta,
        base_url: &state.settings.public_base_url,
        now: chrono::Utc::now().timestamp(),
    };
    if wants_csv(&req) {
        let body = csv::preview(&res, |c| d.variables.iter().map(|v| render::variable(&ctx, v, c)).collect());
        return Ok(csv_response(format!("campaign-{id}-preview.csv"), body));
    }
    let samples = res
        .eligible
        .iter()
        .take(samples)
        .map(|c| PreviewSample {
            to: csv::phone(&c.phone, false),
            lead_id: c.lead_id,
            message: serde_json::to_value(render::message(&ctx, c)).unwrap_or_default(),
        })
        .collect();
    Ok(HttpResponse::Ok().json(PreviewOut {
        eligible: res.eligible.len() as i64,
        excluded: res.exclusions.clone(),
        groups: audience::groups(&res.eligible),
        samples,
    }))
}

/// Starts a draft: the template must be APPROVED (else 422 `template_not_ready`); recipients are
/// stored with their rendered messages and handed to the outbox at the campaign's rate.
#[utoipa::path(tag = "campaigns", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = CampaignOut),
        (status = 409, description = "not a draft, account not active, or number quality RED", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "the template is not approved (`template_not_ready`), or the variables or CTA buttons no longer fit it (`validation_failed`)", body = crate::error::Problem, content_type = "application/problem+json")))]
#[post("/campaigns/{id}/start")]
pub async fn start_campaign(
    state: web::Data<AppState>,
    auth: AuthContext,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    auth.require_admin()?;
    let (tenant, id) = (auth.tenant_id, id.into_inner());
    let (signer, base) = (state.cta.clone(), state.settings.public_base_url.clone());
    state.db.run(move |c| control::start(c, tenant, id, &signer, &base)).await?;
    Ok(HttpResponse::Ok().json(out(&state, tenant, id, true).await?))
}

async fn act(state: &AppState, auth: &AuthContext, id: i64, action: Action) -> ApiResult<HttpResponse> {
    auth.require_admin()?;
    let tenant = auth.tenant_id;
    state.db.run(move |c| control::act(c, tenant, id, action)).await?;
    if action == Action::Resume {
        state.wakeup.wake();
    }
    Ok(HttpResponse::Ok().json(out(state, tenant, id, true).await?))
}

/// Pauses a running campaign; its messages not yet sent wait.
#[utoipa::path(tag = "campaigns", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = CampaignOut), (status = 409, description = "not running", body = crate::error::Problem, content_type = "application/problem+json")))]
#[post("/campaigns/{id}/pause")]
pub async fn pause_campaign(
    state: web::Data<AppState>,
    auth: AuthContext,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    act(&state, &auth, id.into_inner(), Action::Pause).await
}

/// Resumes a paused or halted campaign (after the start checks); nobody already handed to the
/// outbox is messaged again.
#[utoipa::path(tag = "campaigns", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = CampaignOut), (status = 409, description = "not paused or halted, account not active, or number quality RED", body = crate::error::Problem, content_type = "application/problem+json"),
        (status = 422, description = "the template is not approved (`template_not_ready`), or the variables or CTA buttons no longer fit it (`validation_failed`)", body = crate::error::Problem, content_type = "application/problem+json")))]
#[post("/campaigns/{id}/resume")]
pub async fn resume_campaign(
    state: web::Data<AppState>,
    auth: AuthContext,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    act(&state, &auth, id.into_inner(), Action::Resume).await
}

/// Cancels a campaign: messages not yet sent fail with `ERR_CAMPAIGN_CANCELLED`, pending
/// recipients are skipped (`cancelled`).
#[utoipa::path(tag = "campaigns", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = CampaignOut), (status = 409, description = "already finished", body = crate::error::Problem, content_type = "application/problem+json")))]
#[post("/campaigns/{id}/cancel")]
pub async fn cancel_campaign(
    state: web::Data<AppState>,
    auth: AuthContext,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    act(&state, &auth, id.into_inner(), Action::Cancel).await
}

/// Sends the campaign's `unconfirmed` messages again (owners and admins): each was in doubt for
/// `UNKNOWN_SETTLE_SECS` with no status report, so its recipient may or may not have it. Each goes
/// back to the queue with a history entry naming who asked (held while the campaign is paused or
/// halted). A cancelled campaign's are not resent (409 `campaign_cancelled`).
#[utoipa::path(tag = "campaigns", security(("bearer" = [])), params(("id" = i64, Path)),
    responses((status = 200, body = CampaignOut),
        (status = 409, description = "the campaign was cancelled (`campaign_cancelled`)", body = crate::error::Problem, content_type = "application/problem+json")))]
#[post("/campaigns/{id}/resend-unconfirmed")]
pub async fn resend_unconfirmed(
    state: web::Data<AppState>,
    auth: AuthContext,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    auth.require_admin()?;
    let (tenant, id, by) = (auth.tenant_id, id.into_inner(), crate::routes::messages::requester(&auth));
    state
        .db
        .run(move |c| {
            let campaign = store::campaigns::get(c, tenant, id)?.ok_or_else(|| ApiError::not_found("campaign"))?;
            let at = match campaign.status.as_str() {
                "cancelled" => {
                    return Err(ApiError::conflict(
                        "campaign_cancelled",
                        "a cancelled campaign's messages are not resent",
                    ));
                }
                "paused" | "halted" => store::campaigns::held_until(),
                _ => crate::db::now(),
            };
            let which = store::outbox::Resend::Campaign(id);
            store::outbox::resend(c, tenant, which, &by, at).map_err(ApiError::from)
        })
        .await?;
    state.wakeup.wake();
    Ok(HttpResponse::Ok().json(out(&state, tenant, id, true).await?))
}

const RECIPIENT_STATUSES: [&str; 9] =
    ["pending", "queued", "sent", "delivered", "read", "failed", "unknown", "unconfirmed", "skipped"];

/// A campaign's recipients with their status, newest first; `format=csv` (or `Accept: text/csv`)
/// exports all of them. Phones are masked unless an owner or admin asks for `full_numbers`.
#[utoipa::path(tag = "campaigns", security(("bearer" = [])), params(("id" = i64, Path), RecipientQuery),
    responses((status = 200, body = Paginated<RecipientOut>, description = "JSON, or text/csv")))]
#[get("/campaigns/{id}/recipients")]
pub async fn list_campaign_recipients(
    req: HttpRequest,
    state: web::Data<AppState>,
    auth: AuthContext,
    id: web::Path<i64>,
    q: web::Query<RecipientQuery>,
) -> ApiResult<HttpResponse> {
    let q = q.into_inner();
    if q.full_numbers {
        auth.require_admin()?;
    }
    if q.status.as_deref().is_some_and(|s| !RECIPIENT_STATUSES.contains(&s)) {
        return Err(ApiError::field("status", "invalid_choice"));
    }
    let csv = match q.format.as_deref() {
        None => wants_csv(&req),
        Some("csv") => true,
        Some("json") => false,
        Some(_) => return Err(ApiError::field("format", "invalid_choice")),
    };
    let page = PageQuery { limit: q.limit, cursor: q.cursor.clone() }.page()?;
    let (tenant, id, full) = (auth.tenant_id, id.into_inner(), q.full_numbers);
    let status = q.status.clone();
    let rows = state
        .db
        .run(move |c| {
            control::require(c, tenant, id)?;
            let page = (!csv).then_some(page);
            Ok::<_, ApiError>(store::campaigns::recipients(c, id, status.as_deref(), page)?)
        })
        .await?;
    if csv {
        return Ok(csv_response(format!("campaign-{id}-recipients.csv"), csv::recipients(&rows, full)));
    }
    Ok(HttpResponse::Ok().json(Paginated::from_rows(rows, page, |r| r.id, |r| RecipientOut::new(r, full))))
}
