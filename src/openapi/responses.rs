//! Problem responses shared by many operations: the standard ones as reusable components
//! (`#/components/responses/…`), and the set every operation that calls a provider documents.

use utoipa::IntoResponses;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::{Content, Ref, RefOr};

use crate::error::Problem;

/// What an operation that calls the account's provider may answer besides its own outcomes.
/// Place it before the operation's own tuples: an operation with other 409 or 422 causes
/// names them all in its own tuple, which replaces the one here.
#[derive(IntoResponses)]
pub enum ProviderProblems {
    /// Nothing was sent: the account lacks a credential or id the call needs
    /// (`account_credentials_missing`; fill in the setup's steps 1–3).
    #[response(status = 409, content_type = "application/problem+json")]
    CredentialsMissing(Problem),
    /// Nothing was sent: the account's provider does not offer this (`not_supported_by_provider`,
    /// or `ERR_BUTTON_VARIABLES_UNSUPPORTED` for Tata's buttons), or a field is invalid
    /// (`validation_failed`).
    #[response(status = 422, content_type = "application/problem+json")]
    NotSupported(Problem),
    /// The provider refused the request or did not answer: `code` is the seeds' name
    /// (`ERR_PROVIDER_UNAVAILABLE`, `ERR_AUTH_FAILED`, `ERR_PROVIDER_REJECTED`, …) and `detail`
    /// carries the provider's own code and message.
    #[response(status = 502, content_type = "application/problem+json")]
    Provider(Problem),
}

/// A problem response with a description.
pub fn problem(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content("application/problem+json", Content::new(Some(RefOr::Ref(Ref::from_schema_name("Problem")))))
        .build()
}

/// The reusable standard responses: (status, component name, description).
pub const STANDARD: [(&str, &str, &str); 8] = [
    ("400", "MalformedJson", "Malformed JSON (`malformed_json`)"),
    ("401", "Unauthorized", "Missing or invalid credentials"),
    ("403", "Forbidden", "Insufficient role, or the tenant is suspended"),
    ("404", "NotFound", "No such resource in the caller's tenant (`not_found`)"),
    ("413", "PayloadTooLarge", "Body too large (`payload_too_large`)"),
    ("415", "UnsupportedMediaType", "Body is not JSON (`unsupported_media_type`)"),
    ("422", "ValidationFailed", "Validation failed (`validation_failed`); `errors` maps fields to codes"),
    ("500", "InternalError", "Internal error (no details are exposed)"),
];

/// A reference to the standard response for `status`.
pub fn standard(status: &str) -> Option<RefOr<Response>> {
    STANDARD.iter().find(|(s, ..)| *s == status).map(|(_, name, _)| RefOr::Ref(Ref::from_response_name(*name)))
}
