//! Running the service as operations see it: a request id on every answer (the caller's, or a new
//! one) and on the answer's log line; only JSON on the log stream; the process and the build in
//! `/metrics`.

mod service;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Stdio;
use std::time::{Duration, Instant};

use service::{free_port, legemiddel};

/// One request with extra headers: status, headers (lower-case names), body.
fn get(
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, Vec<(String, String)>, String) {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let extra: String = headers
        .iter()
        .map(|(k, v)| format!("{k}: {v}\r\n"))
        .collect();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: t\r\n{extra}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_ascii_lowercase(), v.to_string()))
        .collect();
    (status, headers, body.to_string())
}

fn header<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

#[test]
fn request_ids_json_logs_and_process_metrics() {
    let dir = std::env::temp_dir().join(format!("legemiddel-ops-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("stderr.log");
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let mut server = legemiddel()
        .args([
            "serve",
            "--data",
            dir.join("data").to_str().unwrap(),
            "--listen",
            &addr.to_string(),
        ])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(addr).is_err() {
        assert!(Instant::now() < deadline, "the service did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    // The caller's id comes back; without one, or with one that cannot be logged as it is, a
    // new one is made.
    let (status, headers, _) = get(addr, "/healthz", &[("X-Request-Id", "abc-123")]);
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "x-request-id"), Some("abc-123"));
    let (_, headers, _) = get(addr, "/healthz", &[]);
    let made = header(&headers, "x-request-id").unwrap().to_string();
    assert!(
        made.len() == 32 && made.bytes().all(|b| b.is_ascii_hexdigit()),
        "{made}"
    );
    let long = "x".repeat(200);
    let (_, headers, _) = get(addr, "/healthz", &[("X-Request-Id", &long)]);
    assert_ne!(header(&headers, "x-request-id"), Some(long.as_str()));
    // A path holding a fødselsnummer is never logged; the route's template is.
    let (status, _, _) = get(
        addr,
        "/api/v1/catalogue/01010012356?q=01010012356",
        &[("X-Request-Id", "fnr-test")],
    );
    assert_eq!(status, 401);

    let (status, _, metrics) = get(addr, "/metrics", &[]);
    assert_eq!(status, 200);
    for name in [
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
        "process_start_time_seconds",
        "process_open_fds",
        "legemiddel_build_info{version=\"",
    ] {
        assert!(metrics.contains(name), "{name} missing:\n{metrics}");
    }
    assert!(
        metrics.contains("rule_set=\"legemiddel-regler "),
        "{metrics}"
    );

    // Stop it as an operator would, then read the log stream.
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status();
    let _ = server.wait();
    let text = std::fs::read_to_string(&log).unwrap();
    let mut answered = None;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        if v["span"]["request_id"] == "abc-123" && v["fields"]["message"] == "svar" {
            answered = Some(v.clone());
        }
    }
    let answered =
        answered.unwrap_or_else(|| panic!("no answer line with the request id:\n{text}"));
    assert_eq!(answered["fields"]["route"], "/healthz");
    assert_eq!(answered["fields"]["status"], 200);
    assert!(
        !text.contains("01010012356"),
        "a fødselsnummer in the log:\n{text}"
    );
    assert!(text.contains("fnr-test"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}
