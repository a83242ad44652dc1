//! Usage of an account: daily counts with daily and monthly totals, and health logs.

use std::collections::BTreeMap;

use actix_web::{HttpResponse, get, post, web};
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::AuthContext;
use crate::error::{ApiError, ApiResult};
use crate::pagination::{PageQuery, Paginated};
use crate::routes::utc;
use crate::state::AppState;
use crate::store::{self, health_logs::HealthLog, usage::UsageDay};

/// Longest range one usage query covers.
const MAX_DAYS: i64 = 366;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UsageQuery {
    /// First day (UTC), default 30 days ago.
    pub from: Option<NaiveDate>,
    /// Last day (UTC), default today.
    pub to: Option<NaiveDate>,
}

#[derive(Debug, Default, Clone, Copy, Serialize, ToSchema)]
pub struct UsageCounts {
    pub sent: i64,
    pub delivered: i64,
    pub read: i64,
    pub failed: i64,
    pub inbound: i64,
}

impl UsageCounts {
    /// Adds one day's rollup.
    pub fn add(&mut self, d: &UsageDay) {
        self.sent += d.sent;
        self.delivered += d.delivered;
        self.read += d.read;
        self.failed += d.failed;
        self.inbound += d.inbound;
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UsageDayOut {
    pub day: NaiveDate,
    #[serde(flatten)]
    pub counts: UsageCounts,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UsageMonthOut {
    /// `YYYY-MM`.
    pub month: String,
    #[serde(flatten)]
    pub counts: UsageCounts,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UsageOut {
    pub account_id: i64,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Days with activity, oldest first.
    pub days: Vec<UsageDayOut>,
    pub months: Vec<UsageMonthOut>,
    pub total: UsageCounts,
}

/// Daily counts of sends, deliveries, reads, failures and inbound messages, with totals.
#[utoipa::path(tag = "accounts", security(("bearer" = [])), params(("id" = i64, Path), UsageQuery), responses((status = 200, body = UsageOut)))]
#[get("/accounts/{id}/usage")]
pub async fn get_account_usage(
    state: web::Data<AppState>,
    auth: AuthContext,
    id: web::Path<i64>,
    q: web::Query<UsageQuery>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let today = chrono::Utc::now().date_naive();
    let to = q.to.unwrap_or(today);
    let from = q.from.unwrap_or(to - chrono::Duration::days(29));
    if from > to {
        return Err(ApiError::field("from", "after_to"));
    }
    if (to - from).num_days() >= MAX_DAYS {
        return Err(ApiError::field("from", "range_too_long"));
    }
    let days = state
        .db
        .run(move |c| {
            crate::routes::accounts::require(c, auth.tenant_id, id)?;
            Ok::<_, ApiError>(store::usage::range(c, auth.tenant_id, id, from, to)?)
        })
        .await?;
    let mut total = UsageCounts::default();
    let mut months: BTreeMap<String, UsageCounts> = BTreeMap::new();
    for d in &days {
        total.add(d);
        months.entry(format!("{:04}-{:02}", d.day.year(), d.day.month())).or_default().add(d);
    }
    let days = days
        .iter()
        .map(|d| {
            let mut counts = UsageCounts::default();
            counts.add(d);
            UsageDayOut { day: d.day, counts }
        })
        .collect();
    let months = months.into_iter().map(|(month, counts)| UsageMonthOut { month, counts }).collect();
    Ok(HttpResponse::Ok().json(UsageOut { account_id: id, from, to, days, months, total }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HealthLogOut {
    pub id: i64,
    /// `healthy`, `degraded` or `unhealthy`.
    pub status: String,
    pub response_time_ms: i64,
    #[schema(value_type = Object)]
    pub details: serde_json::Value,
    pub error: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<HealthLog> for HealthLogOut {
    fn from(h: HealthLog) -> Self {
        HealthLogOut {
            id: h.id,
            status: h.status,
            response_time_ms: h.response_time_ms,
            details: serde_json::from_str(&h.details).unwrap_or_default(),
            error: h.error,
            created_at: utc(h.created_at),
        }
    }
}

/// The account's health checks, newest first.
#[utoipa::path(tag = "accounts", security(("bearer" = [])), params(("id" = i64, Path), PageQuery), responses((status = 200, body = Paginated<HealthLogOut>)))]
#[get("/accounts/{id}/health-logs")]
pub async fn list_health_logs(
    state: web::Data<AppState>,
    auth: AuthContext,
    id: web::Path<i64>,
    q: web::Query<PageQuery>,
) -> ApiResult<HttpResponse> {
    let (id, page) = (id.into_inner(), q.page()?);
    let rows = state
        .db
        .run(move |c| {
            crate::routes::accounts::require(c, auth.tenant_id, id)?;
            Ok::<_, ApiError>(store::health_logs::list(c, auth.tenant_id, id, page)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(Paginated::from_rows(rows, page, |h| h.id, HealthLogOut::from)))
}

/// Runs a health check now: provider reachability, credentials, messaging capability and
/// webhook-configuration drift. An authentication error moves the account to `needs_reauth`.
#[utoipa::path(tag = "accounts", security(("bearer" = [])), params(("id" = i64, Path)), responses((status = 200, body = HealthLogOut)))]
#[post("/accounts/{id}/health-check")]
pub async fn run_health_check(
    state: web::Data<AppState>,
    auth: AuthContext,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    auth.require_admin()?;
    let id = id.into_inner();
    let a = crate::routes::accounts::load(&state, auth.tenant_id, id).await?;
    Ok(HttpResponse::Ok().json(HealthLogOut::from(crate::remote::health_check(&state, &a).await?)))
}
