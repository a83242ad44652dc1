//! `GET /t/{lead_id}?token=…&action=…[&c=<campaign_id>]`: the public CTA link (no auth; outside
//! `/api/v1`). A valid click applies the answer (see [`crate::cta`]) and shows a small confirmation
//! page; a tampered, foreign or expired token shows an error page and changes nothing. The request
//! log carries the route pattern only, never the query string with the token.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, web};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::cta::{Via, apply_click};
use crate::db::write_tx;
use crate::domain::TenantId;
use crate::domain::cta::{CtaAction, TokenError};
use crate::error::ApiResult;
use crate::state::AppState;
use crate::store::clicks;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(track_click);
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ClickQuery {
    /// `<lead_id>.<issued_at>.<hex HMAC-SHA256>`.
    pub token: Option<String>,
    /// `interested` or `not_interested`.
    pub action: Option<String>,
    /// The campaign that sent the link (covered by the token's signature).
    pub c: Option<String>,
}

/// A small standalone HTML page.
fn page(status: StatusCode, title: &str, message: &str) -> HttpResponse {
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title}</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;\
         color:#1f2933;text-align:center}}h1{{font-size:1.5rem}}p{{line-height:1.5}}</style></head>\
         <body><h1>{title}</h1><p>{message}</p></body></html>"
    );
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("cache-control", "no-store"))
        .insert_header(("referrer-policy", "no-referrer"))
        .insert_header(("x-robots-tag", "noindex"))
        .body(body)
}

fn invalid() -> HttpResponse {
    page(StatusCode::FORBIDDEN, "This link is not valid", "Please use the link exactly as it appears in our message.")
}

/// Records an answer from a tracked link and shows a confirmation page. Repeated clicks change
/// nothing more.
#[utoipa::path(tag = "tracking", security(), params(("lead_id" = i64, Path), ClickQuery), responses(
    (status = 200, description = "the answer is recorded (or already was)", content_type = "text/html", body = String),
    (status = 400, description = "the link has no token or no valid action", content_type = "text/html", body = String),
    (status = 403, description = "a tampered or foreign token", content_type = "text/html", body = String),
    (status = 404, description = "the lead no longer exists", content_type = "text/html", body = String),
    (status = 410, description = "the link has expired", content_type = "text/html", body = String),
))]
#[get("/t/{lead_id}")]
pub async fn track_click(
    state: web::Data<AppState>,
    lead_id: web::Path<String>,
    q: web::Query<ClickQuery>,
) -> ApiResult<HttpResponse> {
    let Ok(lead_id) = lead_id.parse::<i64>() else { return Ok(invalid()) };
    let q = q.into_inner();
    let action = match q.action.as_deref() {
        Some("interested") => CtaAction::Interested,
        Some("not_interested") => CtaAction::NotInterested,
        _ => {
            return Ok(page(
                StatusCode::BAD_REQUEST,
                "This link is incomplete",
                "Please use the link from our message.",
            ));
        }
    };
    let campaign = match q.c.as_deref().map(str::parse::<i64>) {
        None => None,
        Some(Ok(c)) => Some(c),
        Some(Err(_)) => return Ok(invalid()),
    };
    let Some(token) = q.token else { return Ok(invalid()) };
    match state.cta.verify_for(&token, lead_id, campaign, chrono::Utc::now().timestamp()) {
        Ok(()) => {}
        Err(TokenError::Expired) => {
            return Ok(page(
                StatusCode::GONE,
                "This link has expired",
                "Reply to our WhatsApp message instead and we will get back to you.",
            ));
        }
        Err(_) => return Ok(invalid()),
    }
    let outcome = state
        .db
        .run(move |c| {
            write_tx(c, |c| {
                let Some(tenant): Option<TenantId> = clicks::lead_tenant(c, lead_id)? else { return Ok(None) };
                apply_click(c, tenant, lead_id, action, Via::Url, campaign)
            })
        })
        .await?;
    let Some(outcome) = outcome else {
        return Ok(page(StatusCode::NOT_FOUND, "This link is no longer active", "There is nothing more to do here."));
    };
    if outcome.queued {
        state.wakeup.wake();
    }
    Ok(match action {
        CtaAction::Interested => page(
            StatusCode::OK,
            "Thank you for your interest!",
            "We have noted it. Our team will call you soon, and the brochure is on its way on WhatsApp.",
        ),
        CtaAction::NotInterested => {
            page(StatusCode::OK, "Thanks for letting us know", "We will not send you further messages about this.")
        }
    })
}
