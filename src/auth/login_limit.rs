//! Counts failed logins per email and per IP in a sliding window.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// In-process limiter of failed login attempts.
pub struct LoginLimiter {
    max_per_email: usize,
    max_per_ip: usize,
    window: Duration,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl LoginLimiter {
    pub fn new(max_per_email: u32, window_secs: u64) -> Self {
        LoginLimiter {
            max_per_email: max_per_email as usize,
            max_per_ip: max_per_email as usize * 4,
            window: Duration::from_secs(window_secs),
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// `Some(seconds)` to wait when the email or the IP has failed too often.
    pub fn check(&self, email: &str, ip: &str) -> Option<u64> {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        [(format!("e:{email}"), self.max_per_email), (format!("i:{ip}"), self.max_per_ip)]
            .into_iter()
            .filter_map(|(key, max)| {
                let q = map.get_mut(&key)?;
                while q.front().is_some_and(|t| now.duration_since(*t) >= self.window) {
                    q.pop_front();
                }
                (q.len() >= max).then(|| {
                    let oldest = *q.front().expect("non-empty");
                    self.window.saturating_sub(now.duration_since(oldest)).as_secs().max(1)
                })
            })
            .max()
    }

    /// Records a failure for both keys.
    pub fn fail(&self, email: &str, ip: &str) {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() > 100_000 {
            map.retain(|_, q| q.back().is_some_and(|t| now.duration_since(*t) < self.window));
        }
        for key in [format!("e:{email}"), format!("i:{ip}")] {
            map.entry(key).or_default().push_back(now);
        }
    }

    /// Clears the email's failures after a successful login.
    pub fn succeed(&self, email: &str) {
        self.failures.lock().unwrap_or_else(|p| p.into_inner()).remove(&format!("e:{email}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_max_failures_and_success_resets() {
        let l = LoginLimiter::new(2, 60);
        assert!(l.check("a@x.io", "1.1.1.1").is_none());
        l.fail("a@x.io", "1.1.1.1");
        l.fail("a@x.io", "1.1.1.1");
        assert!(l.check("a@x.io", "2.2.2.2").is_some());
        assert!(l.check("b@x.io", "1.1.1.1").is_none());
        l.succeed("a@x.io");
        assert!(l.check("a@x.io", "2.2.2.2").is_none());
    }
}
