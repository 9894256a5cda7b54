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
pub struct Metrics {
    /// When the process started (seconds since the epoch), for `process_start_time_seconds`.
    started: f64,
    requests: Mutex<BTreeMap<(String, u16), u64>>,
    latency: Mutex<BTreeMap<String, Histogram>>,
    decisions: Mutex<BTreeMap<&'static str, u64>>,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics {
            started: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64()),
            requests: Mutex::default(),
            latency: Mutex::default(),
            decisions: Mutex::default(),
        }
    }
}

/// The process's own figures, read from `/proc/self` (Linux); a figure that cannot be read is
/// left out rather than given as 0.
fn process(started: f64, out: &mut String) {
    let gauge = |out: &mut String, name: &str, help: &str, kind: &str, value: Option<f64>| {
        if let Some(v) = value {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}"
            );
        }
    };
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib = |key: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|n| n.parse::<f64>().ok())
            .map(|n| n * 1024.0)
    };
    // utime and stime are fields 14 and 15 of /proc/self/stat, in clock ticks; the kernel's
    // USER_HZ is 100 on every architecture Linux runs this on.
    let cpu = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|stat| {
            let after = stat.rsplit_once(')')?.1;
            let fields: Vec<&str> = after.split_whitespace().collect();
            let ticks =
                fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
            Some(ticks / 100.0)
        });
    let fds = std::fs::read_dir("/proc/self/fd")
        .ok()
        .map(|d| d.count() as f64);
    let max_fds = std::fs::read_to_string("/proc/self/limits")
        .ok()
        .and_then(|l| {
            l.lines()
                .find(|l| l.starts_with("Max open files"))
                .and_then(|l| l.split_whitespace().nth(3))
                .and_then(|n| n.parse::<f64>().ok())
        });
    gauge(
        out,
        "process_cpu_seconds_total",
        "Total user and system CPU time spent in seconds.",
        "counter",
        cpu,
    );
    gauge(
        out,
        "process_resident_memory_bytes",
        "Resident memory size in bytes.",
        "gauge",
        kib("VmRSS:"),
    );
    gauge(
        out,
        "process_virtual_memory_bytes",
        "Virtual memory size in bytes.",
        "gauge",
        kib("VmSize:"),
    );
    gauge(
        out,
        "process_start_time_seconds",
        "Start time of the process since unix epoch in seconds.",
        "gauge",
        Some(started),
    );
    gauge(
        out,
        "process_open_fds",
        "Number of open file descriptors.",
        "gauge",
        fds,
    );
    gauge(
        out,
        "process_max_fds",
        "Maximum number of open file descriptors.",
        "gauge",
        max_fds,
    );
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

    /// The Prometheus text exposition: the process, the build and rule data, then the service's
    /// own counters.
    pub fn render(&self, rule_set: &str) -> String {
        let mut s = String::new();
        process(self.started, &mut s);
        let _ = writeln!(
            s,
            "# HELP legemiddel_build_info The build and the rule data in force.\n# TYPE legemiddel_build_info gauge\nlegemiddel_build_info{{version=\"{}\",rule_set=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION"),
            rule_set.replace('\\', "\\\\").replace('"', "\\\"")
        );
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
