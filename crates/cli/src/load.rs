//! `legemiddel bench http`: an evenly paced load generator for the service.
//!
//! Requests go out at a constant rate, spread evenly over persistent keep-alive connections
//! (request *i* at `start + i / rate`), not in bursts as a per-worker rate limiter sends them.
//! Latency is measured from when a request was *due*, not from when it was sent, so a service
//! that falls behind is charged for the queue it builds (no coordinated omission). Several
//! `--target`s (instances behind a load balancer) are used round-robin by connection.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// What to send, where, how fast.
pub struct Load {
    /// Instances, used round-robin by connection.
    pub targets: Vec<SocketAddr>,
    /// Path, e.g. `/api/v1/decide`.
    pub path: String,
    /// Bearer token.
    pub token: String,
    /// JSON body of every request; `{n}` in it is replaced by the request's number (unique ids
    /// for a load of dispensings).
    pub body: String,
    /// Requests per second.
    pub rate: f64,
    /// How long.
    pub duration: Duration,
    /// Keep-alive connections.
    pub connections: usize,
}

/// What was measured.
pub struct Report {
    /// Requests sent.
    pub sent: usize,
    /// Answered `2xx`.
    pub ok: usize,
    /// Anything else (other status, connection failure).
    pub errors: usize,
    /// The errors by kind (`503`, `forbindelse: …`), most common first.
    pub error_kinds: Vec<(String, usize)>,
    /// Wall time of the run.
    pub elapsed: Duration,
    /// Latencies of the answered requests, sorted, in microseconds.
    pub latencies: Vec<u64>,
}

impl Report {
    /// The latency at quantile `q` (0–1), in milliseconds.
    pub fn quantile_ms(&self, q: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let i = ((self.latencies.len() as f64 - 1.0) * q).round() as usize;
        self.latencies[i] as f64 / 1000.0
    }
}

/// Runs the load and reports.
pub async fn run(load: Load) -> anyhow::Result<Report> {
    if load.targets.is_empty() || load.connections == 0 || load.rate <= 0.0 {
        bail!("trenger minst ett mål, én forbindelse og en rate over 0");
    }
    let total = (load.rate * load.duration.as_secs_f64()).round() as usize;
    let template = Template {
        path: load.path.clone(),
        token: load.token.clone(),
        body: load.body.clone(),
    };
    let start = Instant::now() + Duration::from_millis(200);
    let mut tasks = Vec::new();
    for c in 0..load.connections {
        let target = load.targets[c % load.targets.len()];
        let template = template.clone();
        let (rate, connections) = (load.rate, load.connections);
        tasks.push(tokio::spawn(async move {
            connection(target, template, start, rate, c, connections, total).await
        }));
    }
    let mut report = Report {
        sent: 0,
        ok: 0,
        errors: 0,
        error_kinds: Vec::new(),
        elapsed: Duration::ZERO,
        latencies: Vec::with_capacity(total),
    };
    let mut kinds = std::collections::BTreeMap::<String, usize>::new();
    for t in tasks {
        let (sent, errors, latencies) = t.await.context("en forbindelse stoppet")?;
        report.sent += sent;
        report.errors += errors.len();
        for e in errors {
            *kinds.entry(e).or_default() += 1;
        }
        report.ok += latencies.len();
        report.latencies.extend(latencies);
    }
    report.error_kinds = kinds.into_iter().collect();
    report.error_kinds.sort_by_key(|k| std::cmp::Reverse(k.1));
    report.elapsed = start.elapsed();
    report.latencies.sort_unstable();
    Ok(report)
}

/// What every request is made from.
#[derive(Clone)]
struct Template {
    path: String,
    token: String,
    body: String,
}

impl Template {
    /// Request number `n`.
    fn request(&self, n: usize) -> Vec<u8> {
        let body = if self.body.contains("{n}") {
            self.body.replace("{n}", &n.to_string())
        } else {
            self.body.clone()
        };
        format!(
            "POST {} HTTP/1.1\r\nHost: legemiddel\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            self.path,
            self.token,
            body.len()
        )
        .into_bytes()
    }
}

/// One keep-alive connection sending requests `index, index + connections, …` on schedule.
async fn connection(
    target: SocketAddr,
    template: Template,
    start: Instant,
    rate: f64,
    index: usize,
    connections: usize,
    total: usize,
) -> (usize, Vec<String>, Vec<u64>) {
    let (mut sent, mut errors, mut latencies) = (0, Vec::new(), Vec::new());
    let mut stream: Option<BufReader<TcpStream>> = None;
    let mut i = index;
    while i < total {
        let due = start + Duration::from_secs_f64(i as f64 / rate);
        tokio::time::sleep_until(due.into()).await;
        sent += 1;
        if stream.is_none() {
            match TcpStream::connect(target).await {
                Ok(s) => {
                    let _ = s.set_nodelay(true);
                    stream = Some(BufReader::new(s));
                }
                Err(e) => {
                    errors.push(format!("kobler til: {e}"));
                    i += connections;
                    continue;
                }
            }
        }
        let s = stream
            .as_mut()
            .unwrap_or_else(|| unreachable!("connected above"));
        match exchange(s, &template.request(i)).await {
            Ok(200..=299) => latencies.push(due.elapsed().as_micros() as u64),
            Ok(status) => errors.push(format!("status {status}")),
            Err(e) => {
                errors.push(format!("forbindelse: {e}"));
                stream = None;
            }
        }
        i += connections;
    }
    (sent, errors, latencies)
}

/// Sends one request and reads its answer; the status.
async fn exchange(s: &mut BufReader<TcpStream>, request: &[u8]) -> std::io::Result<u16> {
    s.get_mut().write_all(request).await?;
    let mut line = String::new();
    s.read_line(&mut line).await?;
    let status: u16 = line
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other("ikke et HTTP-svar"))?;
    let mut length = 0usize;
    loop {
        line.clear();
        if s.read_line(&mut line).await? == 0 {
            return Err(std::io::Error::other("forbindelsen ble lukket"));
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            length = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    s.read_exact(&mut body).await?;
    Ok(status)
}
