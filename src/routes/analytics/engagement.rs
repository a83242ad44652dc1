//! `GET /analytics/engagement`: messages sent, CTA clicks, and the engagement and conversion rates
//! they give, overall (sent from the daily rollups) and per campaign (sent from the campaign's
//! messages).

use std::collections::BTreeMap;

use actix_web::{HttpResponse, get, web};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::ratio;
use crate::auth::AuthContext;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EngagementQuery {
    /// Days back from today (UTC), 1 to 365; default 30.
    pub days: Option<i64>,
}

#[derive(Debug, Default, Serialize, ToSchema)]
pub struct Engagement {
    pub sent: i64,
    pub interested: i64,
    pub not_interested: i64,
    /// (interested + not interested) / sent.
    pub engagement_rate: f64,
    /// interested / sent.
    pub conversion_rate: f64,
}

impl Engagement {
    fn rated(mut self) -> Self {
        self.engagement_rate = ratio(self.interested + self.not_interested, self.sent);
        self.conversion_rate = ratio(self.interested, self.sent);
        self
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignEngagement {
    pub campaign_id: i64,
    #[serde(flatten)]
    pub engagement: Engagement,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EngagementReport {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Every message sent and every click (with or without a campaign).
    pub overall: Engagement,
    /// Per campaign, by id.
    pub campaigns: Vec<CampaignEngagement>,
}

/// Messages sent, interested and not-interested clicks, engagement rate (clicks / sent) and
/// conversion rate (interested / sent), overall and per campaign.
#[utoipa::path(tag = "analytics", security(("bearer" = [])), params(EngagementQuery), responses((status = 200, body = EngagementReport)))]
#[get("/analytics/engagement")]
pub async fn get_engagement(
    state: web::Data<AppState>,
    auth: AuthContext,
    q: web::Query<EngagementQuery>,
) -> ApiResult<HttpResponse> {
    let days = q.days.unwrap_or(30);
    if !(1..=365).contains(&days) {
        return Err(ApiError::field("days", "out_of_range"));
    }
    let to = chrono::Utc::now().date_naive();
    let from = to - chrono::Duration::days(days - 1);
    let since = from.and_hms_opt(0, 0, 0).unwrap_or_default();
    let tenant = auth.tenant_id;
    let (usage, sent, clicks) = state
        .db
        .run(move |c| {
            let usage = store::usage::days(c, tenant, None, from, to)?;
            let sent = store::clicks::campaign_sent_since(c, tenant, since)?;
            let clicks = store::clicks::counts_since(c, tenant, since)?;
            Ok::<_, diesel::result::Error>((usage, sent, clicks))
        })
        .await?;
    let mut overall = Engagement { sent: usage.iter().map(|d| d.sent).sum(), ..Default::default() };
    let mut campaigns: BTreeMap<i64, Engagement> = BTreeMap::new();
    for (id, n) in sent.into_iter().filter_map(|(id, n)| Some((id?, n))) {
        campaigns.entry(id).or_default().sent = n;
    }
    for (campaign, action, n) in clicks {
        let interested = action == "interested";
        for e in std::iter::once(&mut overall).chain(campaign.map(|id| campaigns.entry(id).or_default())) {
            if interested {
                e.interested += n;
            } else {
                e.not_interested += n;
            }
        }
    }
    Ok(HttpResponse::Ok().json(EngagementReport {
        from,
        to,
        overall: overall.rated(),
        campaigns: campaigns
            .into_iter()
            .map(|(campaign_id, e)| CampaignEngagement { campaign_id, engagement: e.rated() })
            .collect(),
    }))
}
