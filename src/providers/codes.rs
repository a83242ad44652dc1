//! Meta's error codes (reference §2) mapped to provider-neutral kinds, following the table's
//! "Client action" and "Retry" columns. Unknown codes fall back to Meta's `is_transient` flag.

use std::time::Duration;

use super::error::ProviderErrorKind as K;

const MINUTE: u64 = 60;
const HOUR: u64 = 60 * MINUTE;

/// The kind of a Meta error code and the wait the table implies before a retry, if any.
pub fn classify(code: i64, is_transient: bool) -> (K, Option<Duration>) {
    let (kind, wait) = match code {
        0 | 190 | 3 | 10 | 200..=299 | 131005 => (K::AuthFailed, None),
        4 | 80007 | 130429 | 131056 => (K::RateLimited, None),
        131049 => (K::RateLimited, Some(24 * HOUR)),
        133016 => (K::RateLimited, Some(72 * HOUR)),
        133008 | 133009 => (K::RateLimited, Some(MINUTE)),
        132069 => (K::RateLimited, Some(HOUR)),
        131048 => (K::QualityDegraded, None),
        368 | 131031 | 130497 | 131064 | 132007 | 132068 => (K::PolicyViolation, None),
        1 | 2 | 131000 | 131016 | 133004 => (K::Transient, None),
        131057 => (K::Transient, Some(MINUTE)),
        133015 => (K::Transient, Some(5 * MINUTE)),
        131021 | 131026 | 131050 | 130403 | 130472 => (K::InvalidRecipient, None),
        131052 | 131053 => (K::MediaUnsupported, None),
        132000 | 132001 | 132015 | 132016 => (K::TemplateNotReady, None),
        _ if is_transient => (K::Transient, None),
        _ => (K::Permanent, None),
    };
    (kind, wait.map(Duration::from_secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_codes_follow_is_transient() {
        assert_eq!(classify(999_999, true).0, K::Transient);
        assert_eq!(classify(999_999, false).0, K::Permanent);
        assert_eq!(classify(131026, true).0, K::InvalidRecipient);
    }

    #[test]
    fn deferred_codes_carry_their_wait() {
        assert_eq!(classify(131049, false).1, Some(Duration::from_secs(86_400)));
        assert_eq!(classify(131057, false).1, Some(Duration::from_secs(60)));
        assert_eq!(classify(130429, false).1, None);
    }
}
