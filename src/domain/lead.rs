//! Lead vocabulary shared by the lead routes and campaign audiences.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where a lead is in the sales funnel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LeadStatus {
    New,
    Contacted,
    Interested,
    NotInterested,
    Converted,
}

impl LeadStatus {
    pub const ALL: [LeadStatus; 5] = [
        LeadStatus::New,
        LeadStatus::Contacted,
        LeadStatus::Interested,
        LeadStatus::NotInterested,
        LeadStatus::Converted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LeadStatus::New => "new",
            LeadStatus::Contacted => "contacted",
            LeadStatus::Interested => "interested",
            LeadStatus::NotInterested => "not_interested",
            LeadStatus::Converted => "converted",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}
