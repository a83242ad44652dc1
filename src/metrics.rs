//! Prometheus metrics: request counts by method and status class, and a latency histogram.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Latency bucket upper bounds, in seconds.
const BUCKETS: [f64; 10] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];
const METHODS: [&str; 6] = ["GET", "POST", "PUT", "PATCH", "DELETE", "OTHER"];

/// Lock-free counters updated by the request middleware.
pub struct Metrics {
    /// [method][status class 1..=5]
    requests: [[AtomicU64; 5]; 6],
    buckets: [AtomicU64; BUCKETS.len()],
    latency_sum_micros: AtomicU64,
    latency_count: AtomicU64,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            requests: std::array::from_fn(|_| std::array::from_fn(|_| AtomicU64::new(0))),
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            latency_sum_micros: AtomicU64::new(0),
            latency_count: AtomicU64::new(0),
        }
    }
}

impl Metrics {
    /// Records one finished request.
    pub fn observe(&self, method: &str, status: u16, seconds: f64) {
        let m = METHODS.iter().position(|x| *x == method).unwrap_or(METHODS.len() - 1);
        let class = (status / 100).clamp(1, 5) as usize - 1;
        self.requests[m][class].fetch_add(1, Relaxed);
        if let Some(b) = BUCKETS.iter().position(|le| seconds <= *le) {
            self.buckets[b].fetch_add(1, Relaxed);
        }
        self.latency_sum_micros.fetch_add((seconds * 1e6) as u64, Relaxed);
        self.latency_count.fetch_add(1, Relaxed);
    }

    /// The Prometheus text exposition, with the database pool's state appended.
    pub fn render(&self, pool: (u32, u32)) -> String {
        let mut out = String::with_capacity(2048);
        out.push_str("# HELP wabahub_http_requests_total HTTP requests by method and status class.\n");
        out.push_str("# TYPE wabahub_http_requests_total counter\n");
        for (mi, method) in METHODS.iter().enumerate() {
            for (ci, n) in self.requests[mi].iter().enumerate() {
                let n = n.load(Relaxed);
                if n > 0 {
                    let _ =
                        writeln!(out, "wabahub_http_requests_total{{method=\"{method}\",status=\"{}xx\"}} {n}", ci + 1);
                }
            }
        }
        out.push_str("# HELP wabahub_http_request_duration_seconds Request latency.\n");
        out.push_str("# TYPE wabahub_http_request_duration_seconds histogram\n");
        let mut cumulative = 0;
        for (le, n) in BUCKETS.iter().zip(&self.buckets) {
            cumulative += n.load(Relaxed);
            let _ = writeln!(out, "wabahub_http_request_duration_seconds_bucket{{le=\"{le}\"}} {cumulative}");
        }
        let count = self.latency_count.load(Relaxed);
        let _ = writeln!(out, "wabahub_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(
            out,
            "wabahub_http_request_duration_seconds_sum {}",
            self.latency_sum_micros.load(Relaxed) as f64 / 1e6
        );
        let _ = writeln!(out, "wabahub_http_request_duration_seconds_count {count}");
        out.push_str("# HELP wabahub_db_pool_connections Database pool connections.\n");
        out.push_str("# TYPE wabahub_db_pool_connections gauge\n");
        let _ = writeln!(out, "wabahub_db_pool_connections{{state=\"open\"}} {}", pool.0);
        let _ = writeln!(out, "wabahub_db_pool_connections{{state=\"idle\"}} {}", pool.1);
        let _ = writeln!(out, "wabahub_build_info{{version=\"{}\"}} 1", env!("CARGO_PKG_VERSION"));
        out
    }
}
