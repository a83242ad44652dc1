//! Request and response bodies of the project routes.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::routes::utc;
use crate::store::projects::Project;

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateProjectRequest {
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    #[schema(example = "Green Valley Phase 2")]
    pub name: String,
    /// A public link to the project's brochure (a PDF), sent to leads who click "Interested".
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    pub brochure_url: Option<String>,
    /// The base of the deep links campaigns put in `{{3}}` (`<base>?lead=<id>`).
    #[validate(length(max = 2000))]
    #[schema(max_length = 2000)]
    pub deep_link_base_url: Option<String>,
    /// The IVR numbers whose calls belong to this project (E.164, or national digits).
    #[validate(length(max = 100))]
    #[schema(max_items = 100)]
    #[serde(default)]
    pub ivr_numbers: Vec<String>,
}

/// Fields to change; `null` clears a URL, a missing field leaves it as it is.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateProjectRequest {
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "crate::extract::nullable")]
    #[schema(value_type = Option<String>)]
    pub brochure_url: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::extract::nullable")]
    #[schema(value_type = Option<String>)]
    pub deep_link_base_url: Option<Option<String>>,
    /// Replaces the project's IVR numbers.
    #[validate(length(max = 100))]
    #[schema(max_items = 100)]
    pub ivr_numbers: Option<Vec<String>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectOut {
    pub id: i64,
    pub name: String,
    pub brochure_url: Option<String>,
    pub deep_link_base_url: Option<String>,
    pub ivr_numbers: Vec<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl From<Project> for ProjectOut {
    fn from(p: Project) -> Self {
        ProjectOut {
            id: p.row.id,
            name: p.row.name,
            brochure_url: p.row.brochure_url,
            deep_link_base_url: p.row.deep_link_base_url,
            ivr_numbers: p.ivr_numbers,
            created_at: utc(p.row.created_at),
            updated_at: utc(p.row.updated_at),
        }
    }
}
