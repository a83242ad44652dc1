//! Request and response bodies of the IVR call routes.

use chrono::NaiveDateTime;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::routes::utc;
use crate::store::ivr_calls::CallRow;

/// RFC 3339 (any offset, stored as UTC) or `YYYY-MM-DD HH:MM:SS[.f]` read as UTC.
fn timestamp<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDateTime, D::Error> {
    let raw = String::deserialize(d)?;
    chrono::DateTime::parse_from_rfc3339(raw.trim())
        .map(|t| t.naive_utc())
        .or_else(|_| NaiveDateTime::parse_from_str(raw.trim(), "%Y-%m-%d %H:%M:%S%.f"))
        .map_err(|_| serde::de::Error::custom("invalid_datetime"))
}

/// One call as the IVR system reports it.
#[derive(Debug, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IvrCallIn {
    /// The caller: E.164 or national digits (`9876543210` gets the default country code). A caller
    /// id that is not a phone number (e.g. `anonymous`) is stored without a lead.
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    #[schema(example = "9876541616")]
    pub caller_id_number: String,
    /// The IVR number dialled (E.164 or national digits); it links the call to a project.
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    #[schema(example = "+918045678900")]
    pub call_to_number: String,
    /// Seconds the call lasted; 0 means missed.
    #[validate(range(min = 0, max = 86400))]
    #[schema(minimum = 0, maximum = 86400)]
    pub duration: i64,
    /// When the call started: RFC 3339, or `YYYY-MM-DD HH:MM:SS` in UTC.
    #[serde(deserialize_with = "timestamp")]
    #[schema(value_type = String, example = "2026-11-20T10:15:00Z")]
    pub start_stamp: NaiveDateTime,
}

/// Up to 1,000 calls, stored all together or (on any invalid call) not at all.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IvrCallBatch {
    #[validate(length(min = 1, max = 1000), nested)]
    #[schema(min_items = 1, max_items = 1000)]
    pub calls: Vec<IvrCallIn>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IvrCallOut {
    pub id: i64,
    pub caller_id_number: String,
    pub call_to_number: String,
    pub duration: i64,
    pub start_stamp: chrono::DateTime<chrono::Utc>,
    /// `answered` when the call lasted, else `missed`.
    pub status: String,
    /// The caller's lead; null when the caller id is not a valid number.
    pub lead_id: Option<i64>,
    /// The project owning the dialled IVR number, if any.
    pub project_id: Option<i64>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl From<CallRow> for IvrCallOut {
    fn from(c: CallRow) -> Self {
        IvrCallOut {
            id: c.id,
            caller_id_number: c.caller_id_number,
            call_to_number: c.call_to_number,
            duration: c.duration,
            start_stamp: utc(c.start_stamp),
            status: c.status,
            lead_id: c.lead_id,
            project_id: c.project_id,
            created_at: utc(c.created_at),
        }
    }
}

/// What one ingested call became.
#[derive(Debug, Serialize, ToSchema)]
pub struct IngestedCallOut {
    #[serde(flatten)]
    pub call: IvrCallOut,
    /// The same call (caller and start time) was already stored; nothing changed.
    pub duplicate: bool,
    pub lead_created: bool,
}

/// The outcome of a batch, call by call in the order sent.
#[derive(Debug, Serialize, ToSchema)]
pub struct IvrBatchOut {
    pub created: usize,
    pub duplicates: usize,
    pub leads_created: usize,
    /// Calls stored without a lead because the caller id is not a valid number.
    pub invalid_callers: usize,
    pub calls: Vec<IngestedCallOut>,
}

/// Filters of the call list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IvrCallQuery {
    /// Calls that started on or after this day (UTC).
    pub from: Option<chrono::NaiveDate>,
    /// Calls that started on or before this day (UTC).
    pub to: Option<chrono::NaiveDate>,
    /// `answered` or `missed`.
    #[param(inline)]
    pub status: Option<crate::campaigns::definition::CallStatus>,
    pub project_id: Option<i64>,
    /// The caller's number (E.164 or national digits).
    pub caller: Option<String>,
}
