//! Prometheus metrics, kept by hand: requests and latencies per route and status, decisions by
//! scheme. A handful of counters needs no metrics framework.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the latency histogram, in seconds.
const BUCKETS: [f64; 10] = [
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.0,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// The service's counters.
#[derive(Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(String, u16), u64>>,
    latency: Mutex<BTreeMap<String, Histogram>>,
    decisions: Mutex<BTreeMap<&'static str, u64>>,
}

impl Metrics {
    /// Counts a finished request.
    pub fn request(&self, route: &str, status: u16, took: Duration) {
        if let Ok(mut r) = self.requests.lock() {
            *r.entry((route.to_string(), status)).or_default() += 1;
        }
        if let Ok(mut l) = self.latency.lock() {
            let h = l.entry(route.to_string()).or_default();
            let secs = took.as_secs_f64();
            for (i, bound) in BUCKETS.iter().enumerate() {
                if secs <= *bound {
                    h.counts[i] += 1;
                }
            }
            h.count += 1;
            h.sum += secs;
        }
    }

    /// Counts a decision by scheme.
    pub fn decision(&self, scheme: &'static str) {
        if let Ok(mut d) = self.decisions.lock() {
            *d.entry(scheme).or_default() += 1;
        }
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut s = String::new();
        s.push_str("# HELP legemiddel_http_requests_total HTTP requests by route and status.\n");
        s.push_str("# TYPE legemiddel_http_requests_total counter\n");
        if let Ok(r) = self.requests.lock() {
            for ((route, status), n) in r.iter() {
                let _ = writeln!(
                    s,
                    "legemiddel_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
                );
            }
        }
        s.push_str("# HELP legemiddel_http_request_duration_seconds Time to answer, by route.\n");
        s.push_str("# TYPE legemiddel_http_request_duration_seconds histogram\n");
        if let Ok(l) = self.latency.lock() {
            for (route, h) in l.iter() {
                for (i, bound) in BUCKETS.iter().enumerate() {
                    let _ = writeln!(
                        s,
                        "legemiddel_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {}",
                        h.counts[i]
                    );
                }
                let _ = writeln!(
                    s,
                    "legemiddel_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}",
                    h.count
                );
                let _ = writeln!(
                    s,
                    "legemiddel_http_request_duration_seconds_sum{{route=\"{route}\"}} {}",
                    h.sum
                );
                let _ = writeln!(
                    s,
                    "legemiddel_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                    h.count
                );
            }
        }
        s.push_str("# HELP legemiddel_decisions_total Decisions served, by scheme.\n");
        s.push_str("# TYPE legemiddel_decisions_total counter\n");
        if let Ok(d) = self.decisions.lock() {
            for (scheme, n) in d.iter() {
                let _ = writeln!(s, "legemiddel_decisions_total{{scheme=\"{scheme}\"}} {n}");
            }
        }
        s
    }
}
