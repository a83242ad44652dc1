//! Parse-don't-validate types used across the API.

pub mod account;
pub mod phone;
pub mod setup;
pub mod template;

pub use phone::PhoneNumber;

use serde::{Deserialize, Serialize};

/// The tenant every tenant-scoped query is filtered by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TenantId(pub i64);
