//! Throttles sign-in and sign-up by client address, so that no address can lock anyone else out.
//!
//! Login attempts are counted per (email, address) pair, per address and per email; an attempt is
//! counted when it starts (so parallel guesses cannot slip past the limit) and taken back when its
//! password was right. Each count has a number of free attempts, then a wait that doubles:
//! - pair: `max_failures` free, then 30 s doubling up to `window` (exponential backoff);
//! - address (one address spraying many emails): 4 × `max_failures` free, then the same backoff;
//! - email (many addresses against one account): `max_failures_per_email` free, then 1 s doubling
//!   up to 30 s between attempts: the account is slowed, never locked for everyone.
//!
//! A count is forgotten `window` after its wait ended without a new failure. Signups are limited to
//! `max_signups` per address per hour. IPv6 addresses count by their /64.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Most counts kept before the expired ones are swept out.
const SWEEP_ABOVE: usize = 100_000;
/// The first wait of a pair or address over its free attempts.
const BACKOFF_BASE: Duration = Duration::from_secs(30);
/// The first and the longest wait between attempts on an email over its ceiling.
const EMAIL_SLOWDOWN: (Duration, Duration) = (Duration::from_secs(1), Duration::from_secs(30));
/// The signup window.
const SIGNUP_WINDOW: Duration = Duration::from_secs(3600);

/// How one kind of count turns failures into a wait.
#[derive(Clone, Copy)]
struct Rule {
    free: u32,
    base: Duration,
    cap: Duration,
}

impl Rule {
    /// How long after the last failure the next attempt may start.
    fn delay(self, failures: u32) -> Duration {
        match failures.checked_sub(self.free) {
            None => Duration::ZERO,
            Some(over) => self.base.saturating_mul(1 << over.min(20)).min(self.cap),
        }
    }

    /// A count is forgotten once a whole window has passed after the wait it imposed.
    fn forgotten(self, c: &Count, now: Instant, window: Duration) -> bool {
        now.duration_since(c.last) >= self.delay(c.failures) + window
    }
}

/// Failures of one key since it was last quiet for a window.
#[derive(Clone, Copy)]
struct Count {
    failures: u32,
    last: Instant,
}

/// The keys one login attempt was counted under; hand it back on success.
#[derive(Debug)]
pub struct Attempt {
    keys: [String; 3],
}

/// In-process limiter of login and signup attempts (shared by the process's workers).
pub struct Throttle {
    rules: [Rule; 3],
    window: Duration,
    max_signups: u32,
    logins: Mutex<HashMap<String, Count>>,
    signups: Mutex<HashMap<String, Count>>,
}

/// The key an address counts under: IPv4 as is, IPv6 by its /64 (one subscriber's block).
fn address_key(ip: IpAddr) -> String {
    match ip.to_canonical() {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

/// Rounds a wait up to whole seconds for `Retry-After`.
fn whole_secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

impl Throttle {
    pub fn new(max_failures: u32, max_failures_per_email: u32, window_secs: u64, max_signups: u32) -> Self {
        let window = Duration::from_secs(window_secs);
        let backoff = |free| Rule { free, base: BACKOFF_BASE.min(window), cap: window };
        Throttle {
            rules: [
                backoff(max_failures),
                backoff(max_failures.saturating_mul(4)),
                Rule { free: max_failures_per_email, base: EMAIL_SLOWDOWN.0, cap: EMAIL_SLOWDOWN.1 },
            ],
            window,
            max_signups,
            logins: Mutex::new(HashMap::new()),
            signups: Mutex::new(HashMap::new()),
        }
    }

    /// Starts a login attempt: `Err(seconds to wait)` when the pair, the address or the email must
    /// wait; otherwise the attempt is counted as a failure until [`Throttle::succeeded`].
    pub fn begin_login(&self, email: &str, ip: IpAddr) -> Result<Attempt, u64> {
        self.begin_login_at(email, ip, Instant::now())
    }

    fn begin_login_at(&self, email: &str, ip: IpAddr, now: Instant) -> Result<Attempt, u64> {
        let addr = address_key(ip);
        let keys = [format!("p:{addr} {email}"), format!("a:{addr}"), format!("e:{email}")];
        let mut map = self.logins.lock().unwrap_or_else(|p| p.into_inner());
        let wait = keys
            .iter()
            .zip(self.rules)
            .filter_map(|(key, rule)| {
                let c = map.get(key).filter(|c| !rule.forgotten(c, now, self.window))?;
                Some((c.last + rule.delay(c.failures)).saturating_duration_since(now))
            })
            .max()
            .unwrap_or_default();
        if !wait.is_zero() {
            return Err(whole_secs(wait));
        }
        // Every wait is at most a window, so a count older than two windows is forgotten.
        sweep(&mut map, now, self.window * 2);
        for (key, rule) in keys.iter().zip(self.rules) {
            let c = map.entry(key.clone()).or_insert(Count { failures: 0, last: now });
            if rule.forgotten(c, now, self.window) {
                c.failures = 0;
            }
            *c = Count { failures: c.failures.saturating_add(1), last: now };
        }
        Ok(Attempt { keys })
    }

    /// The password was right: the pair starts afresh, and the address and email no longer
    /// count this attempt.
    pub fn succeeded(&self, attempt: Attempt) {
        let mut map = self.logins.lock().unwrap_or_else(|p| p.into_inner());
        let [pair, rest @ ..] = attempt.keys;
        map.remove(&pair);
        for key in rest {
            if let Some(c) = map.get_mut(&key) {
                c.failures = c.failures.saturating_sub(1);
            }
        }
    }

    /// Counts a signup attempt from an address: `Err(seconds to wait)` over the hourly limit.
    pub fn begin_signup(&self, ip: IpAddr) -> Result<(), u64> {
        self.begin_signup_at(ip, Instant::now())
    }

    fn begin_signup_at(&self, ip: IpAddr, now: Instant) -> Result<(), u64> {
        let mut map = self.signups.lock().unwrap_or_else(|p| p.into_inner());
        sweep(&mut map, now, SIGNUP_WINDOW);
        // Here `last` is the start of the address's current window and `failures` its signups.
        let c = map.entry(address_key(ip)).or_insert(Count { failures: 0, last: now });
        if now.duration_since(c.last) >= SIGNUP_WINDOW {
            *c = Count { failures: 0, last: now };
        }
        if c.failures >= self.max_signups {
            return Err(whole_secs((c.last + SIGNUP_WINDOW).saturating_duration_since(now)));
        }
        c.failures += 1;
        Ok(())
    }
}

/// Drops the counts quiet for a whole window once there are many.
fn sweep(map: &mut HashMap<String, Count>, now: Instant, window: Duration) {
    if map.len() > SWEEP_ABOVE {
        map.retain(|_, c| now.duration_since(c.last) < window);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(203, 0, 113, 7));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(198, 51, 100, 9));

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    /// Five free failures for a pair, then 30 s, 60 s, 120 s … up to the window.
    #[test]
    fn a_pair_backs_off_exponentially_up_to_the_window() {
        let t = Throttle::new(5, 50, 900, 10);
        let t0 = Instant::now();
        for _ in 0..5 {
            assert!(t.begin_login_at("a@x.io", A, t0).is_ok());
        }
        assert_eq!(t.begin_login_at("a@x.io", A, t0).err(), Some(30));
        let mut at = t0;
        let mut waits = Vec::new();
        for _ in 0..7 {
            let wait = t.begin_login_at("a@x.io", A, at).expect_err("must wait");
            waits.push(wait);
            at += secs(wait);
            assert!(t.begin_login_at("a@x.io", A, at).is_ok());
        }
        assert_eq!(waits, [30, 60, 120, 240, 480, 900, 900]);
        assert_eq!(t.begin_login_at("a@x.io", A, at + secs(899)).err(), Some(1));
        // Quiet for a whole window after the wait ended: forgotten, five free attempts again.
        let fresh = at + secs(900 + 900);
        for _ in 0..5 {
            assert!(t.begin_login_at("a@x.io", A, fresh).is_ok());
        }
        assert_eq!(t.begin_login_at("a@x.io", A, fresh).err(), Some(30));
    }

    #[test]
    fn another_address_is_not_blocked_and_success_resets_the_pair() {
        let t = Throttle::new(5, 50, 900, 10);
        let now = Instant::now();
        for _ in 0..5 {
            t.begin_login_at("a@x.io", A, now).unwrap();
        }
        assert!(t.begin_login_at("a@x.io", A, now).is_err());
        let other = t.begin_login_at("a@x.io", B, now).expect("another address is not blocked");
        t.succeeded(other);
        assert!(t.begin_login_at("a@x.io", A, now).is_err(), "success elsewhere does not free the guesser");
        let later = now + secs(30);
        t.succeeded(t.begin_login_at("a@x.io", A, later).unwrap());
        for _ in 0..5 {
            assert!(t.begin_login_at("a@x.io", A, later).is_ok(), "a success starts the pair afresh");
        }
    }

    /// Many addresses against one email: over the ceiling every attempt waits a little, at most 30 s.
    #[test]
    fn the_email_ceiling_slows_but_never_locks() {
        let t = Throttle::new(5, 10, 900, 10);
        let now = Instant::now();
        for i in 0..10u8 {
            t.begin_login_at("a@x.io", IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, i)), now).unwrap();
        }
        let fresh = |i| IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 1, i));
        let mut at = now;
        for (i, expected) in [1, 2, 4, 8, 16, 30, 30].into_iter().enumerate() {
            let wait = t.begin_login_at("a@x.io", fresh(i as u8), at).expect_err("slowed");
            assert_eq!(wait, expected);
            at += secs(wait);
            assert!(t.begin_login_at("a@x.io", fresh(i as u8), at).is_ok(), "then it may try");
        }
        assert!(t.begin_login_at("b@x.io", fresh(0), at).is_ok(), "other emails are unaffected");
    }

    #[test]
    fn one_address_spraying_many_emails_backs_off() {
        let t = Throttle::new(2, 50, 900, 10);
        let now = Instant::now();
        for i in 0..8 {
            assert!(t.begin_login_at(&format!("u{i}@x.io"), A, now).is_ok());
        }
        assert_eq!(t.begin_login_at("new@x.io", A, now).err(), Some(30));
        assert!(t.begin_login_at("new@x.io", B, now).is_ok());
    }

    #[test]
    fn ipv6_addresses_count_by_their_64() {
        let t = Throttle::new(2, 50, 900, 10);
        let now = Instant::now();
        for last in [1u16, 2] {
            let ip = IpAddr::V6(std::net::Ipv6Addr::new(0x2001, 0xdb8, 1, 2, 0, 0, 0, last));
            t.begin_login_at("a@x.io", ip, now).unwrap();
        }
        let same_64 = IpAddr::V6(std::net::Ipv6Addr::new(0x2001, 0xdb8, 1, 2, 9, 9, 9, 9));
        assert!(t.begin_login_at("a@x.io", same_64, now).is_err());
        let other_64 = IpAddr::V6(std::net::Ipv6Addr::new(0x2001, 0xdb8, 1, 3, 0, 0, 0, 1));
        assert!(t.begin_login_at("a@x.io", other_64, now).is_ok());
    }

    #[test]
    fn signups_are_limited_per_address_per_hour() {
        let t = Throttle::new(5, 50, 900, 3);
        let now = Instant::now();
        for _ in 0..3 {
            t.begin_signup_at(A, now).unwrap();
        }
        assert_eq!(t.begin_signup_at(A, now + secs(600)).err(), Some(3000));
        assert!(t.begin_signup_at(B, now).is_ok());
        assert!(t.begin_signup_at(A, now + SIGNUP_WINDOW).is_ok());
    }
}
