//! Liveness, readiness and metrics.

use actix_web::{HttpResponse, get, web};
use diesel::connection::SimpleConnection;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(healthz).service(readyz).service(metrics);
}

/// The process is up.
#[utoipa::path(tag = "system", security(), responses((status = 200, description = "alive", body = String, content_type = "text/plain")))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

/// The database answers.
#[utoipa::path(tag = "system", security(), responses(
    (status = 200, description = "ready", body = String, content_type = "text/plain"),
    (status = 503, description = "database unreachable", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> ApiResult<HttpResponse> {
    state.db.run(|c| c.batch_execute("SELECT 1")).await.map_err(|_| {
        ApiError::new(actix_web::http::StatusCode::SERVICE_UNAVAILABLE, "not_ready", "the database is unreachable")
    })?;
    Ok(HttpResponse::Ok().content_type("text/plain").body("ready"))
}

/// Prometheus metrics.
#[utoipa::path(tag = "system", security(), responses((status = 200, description = "Prometheus text format", body = String, content_type = "text/plain")))]
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(state.metrics.render(state.db.pool_state()))
}
