//! Parse-don't-validate types used across the API.

pub mod account;
pub mod cta;
pub mod lead;
pub mod message_status;
pub mod phone;
pub mod setup;
pub mod template;

pub use phone::PhoneNumber;

use serde::{Deserialize, Serialize};

/// The tenant every tenant-scoped query is filtered by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TenantId(pub i64);

/// A `validator` rule for PINs and verification codes: exactly six ASCII digits.
pub fn six_digits(v: &str) -> Result<(), validator::ValidationError> {
    (v.len() == 6 && v.bytes().all(|b| b.is_ascii_digit()))
        .then_some(())
        .ok_or_else(|| validator::ValidationError::new("six_digits"))
}
