//! Retry delays: exponential with full jitter, at least what the provider asked for.

use std::time::Duration;

use rand::Rng;

/// The delay before retry `attempt` (1-based): up to `base * 2^(attempt-1)`, capped, never less
/// than `retry_after`.
pub fn delay(attempt: i32, retry_after: Option<Duration>, base: Duration, cap: Duration) -> Duration {
    let exp = base.saturating_mul(1u32 << (attempt - 1).clamp(0, 20) as u32).min(cap);
    let jittered = exp.mul_f64(rand::thread_rng().gen_range(0.5..=1.0));
    jittered.max(retry_after.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_caps_and_honours_retry_after() {
        let base = Duration::from_secs(1);
        let cap = Duration::from_secs(300);
        let d1 = delay(1, None, base, cap);
        assert!(d1 >= Duration::from_millis(500) && d1 <= base);
        let d5 = delay(5, None, base, cap);
        assert!(d5 >= Duration::from_secs(8) && d5 <= Duration::from_secs(16));
        assert!(delay(30, None, base, cap) <= cap);
        assert_eq!(delay(1, Some(Duration::from_secs(42)), base, cap), Duration::from_secs(42));
    }
}
