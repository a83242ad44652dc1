//! Analytics from the daily rollups (never a scan of the messages table): totals, rates, a daily
//! series, top failure codes, billable messages per pricing category, and per-template performance
//! for one account.

mod engagement;

use std::collections::BTreeMap;

use actix_web::{HttpResponse, get, web};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::auth::AuthContext;
use crate::error::{ApiError, ApiResult};
use crate::routes::accounts::usage::UsageCounts;
use crate::state::AppState;
use crate::store;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(get_dashboard).service(get_account_analytics).service(engagement::get_engagement);
}

/// How many top failure codes are listed.
const TOP_CODES: usize = 10;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AnalyticsQuery {
    /// Days back from today (UTC), 1 to 366; default 30.
    pub days: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Rates {
    /// delivered / sent.
    pub delivery_rate: f64,
    /// read / delivered.
    pub read_rate: f64,
    /// failed / (sent + failed).
    pub failure_rate: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DayOut {
    pub day: NaiveDate,
    #[serde(flatten)]
    pub counts: UsageCounts,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FailureCode {
    /// The provider's code (e.g. `131026`) or our error name.
    pub code: String,
    pub count: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TemplatePerformance {
    pub template_name: String,
    pub sent: i64,
    pub delivered: i64,
    pub read: i64,
    pub failed: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Dashboard {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub totals: UsageCounts,
    pub rates: Rates,
    /// One entry per day of the range, oldest first (days without activity are zeros).
    pub daily: Vec<DayOut>,
    pub top_failure_codes: Vec<FailureCode>,
    /// Billable messages per pricing category as the provider reported them (`marketing`,
    /// `utility`, `authentication`, `service`, …); each message counts once.
    pub billable: BTreeMap<String, i64>,
    /// Per template (account analytics only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub templates: Option<Vec<TemplatePerformance>>,
}

fn ratio(a: i64, b: i64) -> f64 {
    if b == 0 { 0.0 } else { ((a as f64 / b as f64) * 10_000.0).round() / 10_000.0 }
}

fn range(q: &AnalyticsQuery) -> ApiResult<(NaiveDate, NaiveDate)> {
    let days = q.days.unwrap_or(30);
    if !(1..=366).contains(&days) {
        return Err(ApiError::field("days", "out_of_range"));
    }
    let to = chrono::Utc::now().date_naive();
    Ok((to - chrono::Duration::days(days - 1), to))
}

/// Builds the dashboard of a tenant, or of one of its accounts.
async fn build(state: &AppState, auth: &AuthContext, account: Option<i64>, q: &AnalyticsQuery) -> ApiResult<Dashboard> {
    let (from, to) = range(q)?;
    let tenant = auth.tenant_id;
    let (days, failures, templates, billable) = state
        .db
        .run(move |c| {
            if let Some(id) = account {
                crate::routes::accounts::require(c, tenant, id)?;
            }
            let days = store::usage::days(c, tenant, account, from, to)?;
            let failures = store::usage::failures(c, tenant, account, from, to)?;
            let templates = match account {
                Some(id) => Some(store::usage::templates(c, tenant, id, from, to)?),
                None => None,
            };
            let billable = store::usage::billable(c, tenant, account, from, to)?;
            Ok::<_, ApiError>((days, failures, templates, billable))
        })
        .await?;
    let mut by_day: BTreeMap<NaiveDate, UsageCounts> = BTreeMap::new();
    let mut day = from;
    while day <= to {
        by_day.insert(day, UsageCounts::default());
        day += chrono::Duration::days(1);
    }
    let mut total = UsageCounts::default();
    for d in &days {
        by_day.entry(d.day).or_default().add(d);
        total.add(d);
    }
    Ok(Dashboard {
        from,
        to,
        rates: Rates {
            delivery_rate: ratio(total.delivered, total.sent),
            read_rate: ratio(total.read, total.delivered),
            failure_rate: ratio(total.failed, total.sent + total.failed),
        },
        totals: total,
        daily: by_day.into_iter().map(|(day, counts)| DayOut { day, counts }).collect(),
        top_failure_codes: failures
            .into_iter()
            .take(TOP_CODES)
            .map(|(code, count)| FailureCode { code, count })
            .collect(),
        billable,
        templates: templates.map(|ts| {
            ts.into_iter()
                .map(|(template_name, c)| TemplatePerformance {
                    template_name,
                    sent: c.sent,
                    delivered: c.delivered,
                    read: c.read,
                    failed: c.failed,
                })
                .collect()
        }),
    })
}

/// The tenant's messaging at a glance: totals, rates, a daily series and the top failure codes.
#[utoipa::path(tag = "analytics", security(("bearer" = [])), params(AnalyticsQuery), responses((status = 200, body = Dashboard)))]
#[get("/analytics/dashboard")]
pub async fn get_dashboard(
    state: web::Data<AppState>,
    auth: AuthContext,
    q: web::Query<AnalyticsQuery>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(build(&state, &auth, None, &q).await?))
}

/// The same for one account, plus sent, delivered and read per template.
#[utoipa::path(tag = "analytics", security(("bearer" = [])), params(("id" = i64, Path), AnalyticsQuery), responses((status = 200, body = Dashboard)))]
#[get("/accounts/{id}/analytics")]
pub async fn get_account_analytics(
    state: web::Data<AppState>,
    auth: AuthContext,
    id: web::Path<i64>,
    q: web::Query<AnalyticsQuery>,
) -> ApiResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(build(&state, &auth, Some(id.into_inner()), &q).await?))
}
