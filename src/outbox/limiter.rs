//! Rate limits of the dispatcher: a sliding one-second window per phone number (never more than
//! its throughput in any window) and the pair-rate guard (one message per 6 s to the same user).

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

/// The window a number's throughput is counted in. A hair over a second, so that network jitter
/// between us and the provider cannot squeeze one extra message into a provider-side second.
const WINDOW: Duration = Duration::from_millis(1020);

/// Meta's pair rate: one message every 6 seconds from a number to the same recipient.
pub const PAIR_INTERVAL: Duration = Duration::from_secs(6);

/// Send times of one number within the current window.
#[derive(Default)]
pub struct Window {
    sent: VecDeque<Instant>,
}

impl Window {
    /// How many messages may start now at `per_second` (at least 1 per window).
    pub fn available(&mut self, per_second: f64, now: Instant) -> usize {
        let window = Self::window_for(per_second);
        while self.sent.front().is_some_and(|t| now.duration_since(*t) >= window) {
            self.sent.pop_front();
        }
        Self::capacity(per_second).saturating_sub(self.sent.len())
    }

    /// Records `n` sends starting now.
    pub fn take(&mut self, n: usize, now: Instant) {
        self.sent.extend(std::iter::repeat_n(now, n));
    }

    /// When the next slot frees up.
    pub fn next_free(&self, per_second: f64, now: Instant) -> Duration {
        if self.sent.len() < Self::capacity(per_second) {
            return Duration::ZERO;
        }
        let oldest = *self.sent.front().expect("full window is non-empty");
        Self::window_for(per_second).saturating_sub(now.duration_since(oldest))
    }

    /// Below one message per second the window widens so that one message fits in it.
    fn window_for(per_second: f64) -> Duration {
        if per_second >= 1.0 { WINDOW } else { WINDOW.mul_f64(1.0 / per_second.max(0.001)) }
    }

    fn capacity(per_second: f64) -> usize {
        (per_second.floor() as usize).max(1)
    }
}

/// Last send time per (number, recipient), forgetting entries older than the interval.
#[derive(Default)]
pub struct PairGuard {
    last: HashMap<(i64, String), Instant>,
}

impl PairGuard {
    /// `None` when a message may go now (and records it), else how long to wait.
    pub fn check(&mut self, number: i64, recipient: &str, now: Instant) -> Option<Duration> {
        if self.last.len() > 200_000 {
            self.last.retain(|_, t| now.duration_since(*t) < PAIR_INTERVAL);
        }
        let key = (number, recipient.to_string());
        match self.last.get(&key) {
            Some(t) if now.duration_since(*t) < PAIR_INTERVAL => Some(PAIR_INTERVAL - now.duration_since(*t)),
            _ => {
                self.last.insert(key, now);
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_more_than_the_rate_in_a_window() {
        let mut w = Window::default();
        let t0 = Instant::now();
        assert_eq!(w.available(80.0, t0), 80);
        w.take(80, t0);
        assert_eq!(w.available(80.0, t0 + Duration::from_millis(999)), 0);
        assert!(w.next_free(80.0, t0 + Duration::from_millis(500)) > Duration::from_millis(500));
        assert_eq!(w.available(80.0, t0 + WINDOW), 80);
    }

    #[test]
    fn slow_numbers_get_one_message_per_wider_window() {
        let mut w = Window::default();
        let t0 = Instant::now();
        assert_eq!(w.available(0.8, t0), 1);
        w.take(1, t0);
        assert_eq!(w.available(0.8, t0 + Duration::from_millis(1200)), 0);
        assert_eq!(w.available(0.8, t0 + Duration::from_millis(1300)), 1);
    }

    #[test]
    fn pair_guard_spaces_messages_to_one_user() {
        let mut g = PairGuard::default();
        let t0 = Instant::now();
        assert!(g.check(1, "+1555", t0).is_none());
        assert!(g.check(1, "+1555", t0 + Duration::from_secs(1)).is_some());
        assert!(g.check(2, "+1555", t0).is_none());
        assert!(g.check(1, "+1666", t0).is_none());
        assert!(g.check(1, "+1555", t0 + PAIR_INTERVAL).is_none());
    }
}
