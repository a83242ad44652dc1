//! The one error every provider call returns: a provider-neutral kind that decides what the
//! sender does next, plus the provider's own code and text, kept for the message's record.

use std::fmt;
use std::time::Duration;

use crate::outbound::SendError;

/// What kind of failure a provider reported; decides retry and what the tenant is told.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProviderErrorKind {
    /// Throughput, pair-rate or API-call limits: retry after `retry_after`.
    RateLimited,
    /// The template is missing, not approved, paused or disabled, or its parameters do not match.
    TemplateNotReady,
    /// The recipient cannot be messaged (not on WhatsApp, opted out, blocked, …).
    InvalidRecipient,
    /// The media cannot be fetched or has an unsupported type.
    MediaUnsupported,
    /// The account, template or content is restricted for a policy reason.
    PolicyViolation,
    /// The credentials are expired, revoked or lack a permission.
    AuthFailed,
    /// The number's quality is too low to keep sending (spam rate limit).
    QualityDegraded,
    /// The provider cannot fill variables in buttons (Tata).
    ButtonVariablesUnsupported,
    /// A temporary failure: timeouts, outages, 5xx.
    Transient,
    /// Anything that will fail again unchanged: bad requests, unsupported operations.
    Permanent,
    /// The provider URL breaks the platform's rules (off the allow-list, or an internal
    /// address): nothing was sent.
    UrlNotAllowed,
}

impl ProviderErrorKind {
    /// The stable error name stored with a failed message (the seeds' names).
    pub fn seed_code(self) -> &'static str {
        match self {
            ProviderErrorKind::RateLimited => "ERR_WHATSAPP_RATE_LIMIT",
            ProviderErrorKind::TemplateNotReady => "ERR_TEMPLATE_NOT_READY",
            ProviderErrorKind::InvalidRecipient => "ERR_INVALID_RECIPIENT",
            ProviderErrorKind::MediaUnsupported => "ERR_MEDIA_UNSUPPORTED",
            ProviderErrorKind::PolicyViolation => "ERR_POLICY_VIOLATION",
            ProviderErrorKind::AuthFailed => "ERR_AUTH_FAILED",
            ProviderErrorKind::QualityDegraded => "ERR_QUALITY_DEGRADED",
            ProviderErrorKind::ButtonVariablesUnsupported => "ERR_BUTTON_VARIABLES_UNSUPPORTED",
            ProviderErrorKind::Transient => "ERR_PROVIDER_UNAVAILABLE",
            ProviderErrorKind::Permanent => "ERR_PROVIDER_REJECTED",
            ProviderErrorKind::UrlNotAllowed => "ERR_PROVIDER_URL_NOT_ALLOWED",
        }
    }
}

/// Why a call was refused here, before any request went to the provider.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LocalRefusal {
    /// The account lacks a credential or id the call needs (a token, the WABA id, …).
    CredentialsMissing,
    /// The provider does not offer the operation or feature.
    NotSupported,
}

/// A failed provider call.
#[derive(Clone, Debug, PartialEq)]
pub struct ProviderError {
    pub kind: ProviderErrorKind,
    /// The provider's own code, e.g. Meta's `131026`.
    pub code: Option<i64>,
    pub message: String,
    /// The provider's detail text (Meta's `error_data.details`).
    pub details: Option<String>,
    /// How long to wait before retrying, when the provider said or the code implies it.
    pub retry_after: Option<Duration>,
    pub http_status: Option<u16>,
    /// The request may have reached the provider (a timeout or a cut reply after sending, or an
    /// accepted send without an id): a message must then never be sent again.
    pub maybe_delivered: bool,
    /// Set when nothing was sent: the refusal was decided from the account and the provider's
    /// capabilities, not by the provider.
    pub local: Option<LocalRefusal>,
}

impl ProviderError {
    /// An error of `kind` with a message and nothing else.
    pub fn new(kind: ProviderErrorKind, message: impl Into<String>) -> Self {
        ProviderError {
            kind,
            code: None,
            message: message.into(),
            details: None,
            retry_after: None,
            http_status: None,
            maybe_delivered: false,
            local: None,
        }
    }

    /// The call could not be made or answered. The message says which: "could not connect"
    /// never reached the provider; "timed out" or "could not be completed" may have, so a
    /// sender must not resend without reconciling first.
    pub fn transport(err: &reqwest::Error) -> Self {
        Self::failed_call(err.is_connect(), err.is_timeout())
    }

    fn failed_call(connect: bool, timeout: bool) -> Self {
        let what = if connect {
            "could not connect"
        } else if timeout {
            "timed out"
        } else {
            "could not be completed"
        };
        ProviderError {
            maybe_delivered: !connect,
            ..ProviderError::new(ProviderErrorKind::Transient, format!("provider request {what}"))
        }
    }

    /// A request the guarded client did not complete: refused before sending (the URL is not
    /// allowed), or failed on its way (as [`ProviderError::transport`]).
    pub fn from_send(err: SendError) -> Self {
        match err {
            SendError::Blocked(why) => Self::url_not_allowed(format!("the provider URL is not allowed ({why})")),
            SendError::Failed { connect, timeout, .. } => Self::failed_call(connect, timeout),
        }
    }

    /// The account's provider URL breaks the platform's rules; nothing was sent.
    pub fn url_not_allowed(message: impl Into<String>) -> Self {
        ProviderError::new(ProviderErrorKind::UrlNotAllowed, message)
    }

    /// An operation this provider does not offer.
    pub fn unsupported(provider: &str, operation: &str) -> Self {
        ProviderError::new(ProviderErrorKind::Permanent, format!("{operation} is not supported by {provider}"))
            .refused_locally(LocalRefusal::NotSupported)
    }

    /// A call the account cannot make: it lacks the credential or id named in `message`.
    pub fn credentials_missing(kind: ProviderErrorKind, message: impl Into<String>) -> Self {
        ProviderError::new(kind, message).refused_locally(LocalRefusal::CredentialsMissing)
    }

    /// Marks the error as decided here, with no request made.
    pub fn refused_locally(self, why: LocalRefusal) -> Self {
        ProviderError { local: Some(why), ..self }
    }

    /// The seeds' name for this error, e.g. `ERR_TEMPLATE_NOT_READY`.
    pub fn seed_code(&self) -> &'static str {
        self.kind.seed_code()
    }

    /// Whether sending the same request later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self.kind, ProviderErrorKind::RateLimited | ProviderErrorKind::Transient)
    }
}

impl fmt::Display for ProviderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.code {
            Some(code) => write!(f, "{} ({code}): {}", self.seed_code(), self.message),
            None => write!(f, "{}: {}", self.seed_code(), self.message),
        }
    }
}

impl std::error::Error for ProviderError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_rate_limits_and_transient_errors_retry() {
        assert!(ProviderError::new(ProviderErrorKind::RateLimited, "x").is_retryable());
        assert!(ProviderError::new(ProviderErrorKind::Transient, "x").is_retryable());
        assert!(!ProviderError::new(ProviderErrorKind::AuthFailed, "x").is_retryable());
        assert!(!ProviderError::unsupported("Tata", "flows").is_retryable());
    }

    #[test]
    fn local_refusals_say_so_and_keep_their_kind() {
        assert_eq!(ProviderError::unsupported("Tata", "flows").local, Some(LocalRefusal::NotSupported));
        let e = ProviderError::credentials_missing(ProviderErrorKind::AuthFailed, "no token");
        assert_eq!((e.kind, e.local), (ProviderErrorKind::AuthFailed, Some(LocalRefusal::CredentialsMissing)));
        assert_eq!(ProviderError::new(ProviderErrorKind::Permanent, "x").local, None);
    }

    #[test]
    fn display_names_the_seed_code_and_provider_code() {
        let mut e = ProviderError::new(ProviderErrorKind::TemplateNotReady, "Template paused");
        e.code = Some(132015);
        assert_eq!(e.to_string(), "ERR_TEMPLATE_NOT_READY (132015): Template paused");
        assert_eq!(ProviderError::unsupported("Tata", "flows").message, "flows is not supported by Tata");
    }
}
