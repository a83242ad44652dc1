//! Authentication: passwords, JWTs, refresh tokens, API keys and the request's `AuthContext`.

pub mod client;
pub mod context;
pub mod jwt;
pub mod password;
pub mod throttle;
pub mod tokens;

pub use context::AuthContext;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A tenant role. Owners and admins manage the tenant; members use it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Member,
    Admin,
    Owner,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Member => "member",
        }
    }
    /// Parses a stored role; unknown values (which CHECK constraints prevent) fall back to member.
    pub fn parse(s: &str) -> Role {
        match s {
            "owner" => Role::Owner,
            "admin" => Role::Admin,
            _ => Role::Member,
        }
    }
}
