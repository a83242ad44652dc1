//! Phone numbers: per account and across the tenant; add, list, get, update, delete, make default.

pub mod provider;

use actix_web::{HttpResponse, delete, get, patch, post, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::{Validate, ValidationError};

use crate::auth::AuthContext;
use crate::db::{now, write_tx};
use crate::domain::account::ProviderKind;
use crate::domain::phone::e164;
use crate::error::{ApiError, ApiResult};
use crate::extract::ValidatedJson;
use crate::pagination::{PageQuery, Paginated};
use crate::routes::utc;
use crate::state::AppState;
use crate::store::{self, phone_numbers::*};

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(list_account_phone_numbers)
        .service(create_phone_number)
        .service(list_phone_numbers)
        .service(get_phone_number)
        .service(update_phone_number)
        .service(delete_phone_number)
        .service(set_default_phone_number)
        .service(provider::sync_phone_numbers)
        .service(provider::register_phone_number)
        .service(provider::request_phone_code)
        .service(provider::verify_phone_code);
}

/// Phone-number statuses reported by providers.
const STATUSES: [&str; 11] = [
    "CONNECTED",
    "PENDING",
    "FLAGGED",
    "RATE_LIMITED",
    "RESTRICTED",
    "DISCONNECTED",
    "OFFLINE",
    "DELETED",
    "BANNED",
    "MIGRATED",
    "UNVERIFIED",
];

/// Messaging-limit tiers (unique users per 24 h outside a service window).
const TIERS: [&str; 6] = ["TIER_250", "TIER_1K", "TIER_2K", "TIER_10K", "TIER_100K", "TIER_UNLIMITED"];

fn valid_status(v: &str) -> Result<(), ValidationError> {
    STATUSES.contains(&v).then_some(()).ok_or_else(|| ValidationError::new("invalid_choice"))
}

fn valid_tier(v: &str) -> Result<(), ValidationError> {
    TIERS.contains(&v).then_some(()).ok_or_else(|| ValidationError::new("invalid_choice"))
}

/// A number's quality rating as the provider reports it.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum QualityRating {
    Green,
    Yellow,
    Red,
    Unknown,
}

impl QualityRating {
    fn as_str(self) -> &'static str {
        match self {
            QualityRating::Green => "GREEN",
            QualityRating::Yellow => "YELLOW",
            QualityRating::Red => "RED",
            QualityRating::Unknown => "UNKNOWN",
        }
    }
}

/// The body of `POST /accounts/{id}/phone-numbers` (`phone_number` required) and `PATCH /phone-numbers/{id}`.
#[derive(Debug, Default, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PhoneNumberInput {
    /// E.164; +91 numbers must be 10 digits starting with 6–9.
    #[validate(custom(function = "crate::domain::phone::validate_phone"))]
    #[schema(example = "+919876543210")]
    pub phone_number: Option<String>,
    /// The provider's id for the number; unique across all tenants.
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub provider_phone_number_id: Option<String>,
    #[validate(length(min = 1, max = 32))]
    #[schema(min_length = 1, max_length = 32)]
    pub display_phone_number: Option<String>,
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub verified_name: Option<String>,
    pub quality_rating: Option<QualityRating>,
    #[validate(custom(function = "valid_tier"))]
    #[schema(example = "TIER_1K")]
    pub messaging_limit_tier: Option<String>,
    /// Messages per second this number may send.
    #[validate(range(min = 0.01, max = 1000.0))]
    #[schema(minimum = 0.01, maximum = 1000.0)]
    pub throughput_mps: Option<f64>,
    #[validate(custom(function = "valid_status"))]
    #[schema(example = "CONNECTED")]
    pub status: Option<String>,
    /// Make this the account's default sending number (create only; use `POST …/default` later).
    pub is_default: Option<bool>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PhoneNumberOut {
    pub id: i64,
    pub account_id: i64,
    pub phone_number: String,
    pub provider_phone_number_id: Option<String>,
    pub display_phone_number: String,
    pub verified_name: Option<String>,
    pub quality_rating: String,
    pub messaging_limit_tier: Option<String>,
    pub throughput_mps: f64,
    pub status: String,
    pub is_default: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<PhoneNumberRow> for PhoneNumberOut {
    fn from(p: PhoneNumberRow) -> Self {
        PhoneNumberOut {
            id: p.id,
            account_id: p.account_id,
            phone_number: p.phone_number,
            provider_phone_number_id: p.provider_phone_number_id,
            display_phone_number: p.display_phone_number,
            verified_name: p.verified_name,
            quality_rating: p.quality_rating,
            messaging_limit_tier: p.messaging_limit_tier,
            throughput_mps: p.throughput_mps,
            status: p.status,
            is_default: p.is_default,
            created_at: utc(p.created_at),
            updated_at: utc(p.updated_at),
        }
    }
}

/// Maps unique violations on phone numbers to clear conflicts.
pub fn phone_conflict(e: diesel::result::Error) -> ApiError {
    use diesel::result::{DatabaseErrorKind, Error};
    match &e {
        Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
            let what = format!("{} {}", info.message(), info.constraint_name().unwrap_or_default());
            if what.contains("provider_phone_number_id") {
                ApiError::conflict("phone_number_id_taken", "this provider phone-number id is already registered")
            } else {
                ApiError::conflict("phone_number_exists", "this account already has this phone number")
            }
        }
        _ => e.into(),
    }
}

/// Filters of `GET /phone-numbers`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PhoneFilter {
    pub account_id: Option<i64>,
}

/// The numbers of one account.
#[utoipa::path(tag = "phone-numbers", security(("bearer" = [])), params(("id" = i64, Path), PageQuery), responses((status = 200, body = Paginated<PhoneNumberOut>)))]
#[get("/accounts/{id}/phone-numbers")]
pub async fn list_account_phone_numbers(
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
            Ok::<_, ApiError>(store::phone_numbers::list(c, auth.tenant_id, Some(id), page)?)
        })
        .await?;
    Ok(HttpResponse::Ok().json(Paginated::from_rows(rows, page, |p| p.id, PhoneNumberOut::from)))
}

/// Adds a number to an account. Its first number becomes the default.
#[utoipa::path(tag = "phone-numbers", security(("bearer" = [])), params(("id" = i64, Path)), request_body = PhoneNumberInput, responses(
    (status = 201, body = PhoneNumberOut),
    (status = 409, description = "the number or its provider id is already registered", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[post("/accounts/{id}/phone-numbers")]
pub async fn create_phone_number(
    state: web::Data<AppState>,
    auth: AuthContext,
    id: web::Path<i64>,
    body: ValidatedJson<PhoneNumberInput>,
) -> ApiResult<HttpResponse> {
    auth.require_admin()?;
    let (account_id, input) = (id.into_inner(), body.0);
    let phone = input.phone_number.as_deref().map(e164).ok_or_else(|| ApiError::field("phone_number", "required"))?;
    let row = state
        .db
        .run(move |c| {
            write_tx(c, |c| {
                let account = crate::routes::accounts::require(c, auth.tenant_id, account_id)?;
                let provider = ProviderKind::parse(&account.provider);
                let ts = now();
                store::phone_numbers::insert(
                    c,
                    NewPhoneNumber {
                        tenant_id: auth.tenant_id.0,
                        account_id,
                        phone_number: phone.clone(),
                        provider_phone_number_id: input.provider_phone_number_id,
                        display_phone_number: input.display_phone_number.unwrap_or(phone),
                        verified_name: input.verified_name,
                        quality_rating: input.quality_rating.unwrap_or(QualityRating::Unknown).as_str().into(),
                        messaging_limit_tier: input.messaging_limit_tier,
                        throughput_mps: input.throughput_mps.unwrap_or(provider.default_throughput()),
                        status: input.status.unwrap_or_else(|| "PENDING".into()),
                        is_default: input.is_default.unwrap_or(false),
                        created_at: ts,
                        updated_at: ts,
                    },
                )
                .map_err(phone_conflict)
            })
        })
        .await?;
    Ok(HttpResponse::Created().json(PhoneNumberOut::from(row)))
}

/// Every number of the tenant, optionally of one account.
#[utoipa::path(tag = "phone-numbers", security(("bearer" = [])), params(PageQuery, PhoneFilter), responses((status = 200, body = Paginated<PhoneNumberOut>)))]
#[get("/phone-numbers")]
pub async fn list_phone_numbers(
    state: web::Data<AppState>,
    auth: AuthContext,
    q: web::Query<PageQuery>,
    f: web::Query<PhoneFilter>,
) -> ApiResult<HttpResponse> {
    let (page, account) = (q.page()?, f.account_id);
    let rows = state.db.run(move |c| store::phone_numbers::list(c, auth.tenant_id, account, page)).await?;
    Ok(HttpResponse::Ok().json(Paginated::from_rows(rows, page, |p| p.id, PhoneNumberOut::from)))
}

/// One number.
#[utoipa::path(tag = "phone-numbers", security(("bearer" = [])), params(("id" = i64, Path)), responses((status = 200, body = PhoneNumberOut)))]
#[get("/phone-numbers/{id}")]
pub async fn get_phone_number(
    state: web::Data<AppState>,
    auth: AuthContext,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let row = state.db.run(move |c| store::phone_numbers::get(c, auth.tenant_id, id)).await?;
    Ok(HttpResponse::Ok().json(PhoneNumberOut::from(row.ok_or_else(|| ApiError::not_found("phone number"))?)))
}

/// Changes a number's details.
#[utoipa::path(tag = "phone-numbers", security(("bearer" = [])), params(("id" = i64, Path)), request_body = PhoneNumberInput, responses(
    (status = 200, body = PhoneNumberOut),
    (status = 409, description = "the number or its provider id is already registered", body = crate::error::Problem, content_type = "application/problem+json"),
))]
#[patch("/phone-numbers/{id}")]
pub async fn update_phone_number(
    state: web::Data<AppState>,
    auth: AuthContext,
    id: web::Path<i64>,
    body: ValidatedJson<PhoneNumberInput>,
) -> ApiResult<HttpResponse> {
    auth.require_admin()?;
    let (id, input) = (id.into_inner(), body.0);
    if input.is_default.is_some() {
        return Err(ApiError::field("is_default", "read_only"));
    }
    let changes = PhoneNumberChanges {
        phone_number: input.phone_number.as_deref().map(e164),
        provider_phone_number_id: input.provider_phone_number_id,
        display_phone_number: input.display_phone_number,
        verified_name: input.verified_name,
        quality_rating: input.quality_rating.map(|q| q.as_str().to_string()),
        messaging_limit_tier: input.messaging_limit_tier,
        throughput_mps: input.throughput_mps,
        status: input.status,
        updated_at: None,
    };
    let row = state
        .db
        .run(move |c| store::phone_numbers::update(c, auth.tenant_id, id, changes).map_err(phone_conflict))
        .await?;
    Ok(HttpResponse::Ok().json(PhoneNumberOut::from(row.ok_or_else(|| ApiError::not_found("phone number"))?)))
}

/// Deletes a number; when it was the default, the oldest remaining number becomes the default.
#[utoipa::path(tag = "phone-numbers", security(("bearer" = [])), params(("id" = i64, Path)), responses((status = 204, description = "deleted")))]
#[delete("/phone-numbers/{id}")]
pub async fn delete_phone_number(
    state: web::Data<AppState>,
    auth: AuthContext,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    auth.require_admin()?;
    let id = id.into_inner();
    if !state.db.run(move |c| write_tx(c, |c| store::phone_numbers::delete(c, auth.tenant_id, id))).await? {
        return Err(ApiError::not_found("phone number"));
    }
    Ok(HttpResponse::NoContent().finish())
}

/// Makes a number its account's default sender.
#[utoipa::path(tag = "phone-numbers", security(("bearer" = [])), params(("id" = i64, Path)), responses((status = 200, body = PhoneNumberOut)))]
#[post("/phone-numbers/{id}/default")]
pub async fn set_default_phone_number(
    state: web::Data<AppState>,
    auth: AuthContext,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    auth.require_admin()?;
    let id = id.into_inner();
    let row = state.db.run(move |c| write_tx(c, |c| store::phone_numbers::make_default(c, auth.tenant_id, id))).await?;
    Ok(HttpResponse::Ok().json(PhoneNumberOut::from(row.ok_or_else(|| ApiError::not_found("phone number"))?)))
}
