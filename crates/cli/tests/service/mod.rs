//! What the crash tests share: the `legemiddel` binary, a free loopback port, a `serve` started
//! on a data folder and waited for, and a one-request HTTP/1.1 client.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn legemiddel() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_legemiddel"));
    c.env_remove("LEGEMIDDEL_DATABASE_URL")
        .env_remove("LEGEMIDDEL_DATA")
        .env_remove("LEGEMIDDEL_RULES");
    c
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn start(data: &Path, addr: SocketAddr) -> Child {
    let mut child = legemiddel()
        .args([
            "serve",
            "--data",
            data.to_str().unwrap(),
            "--listen",
            &addr.to_string(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the service starts");
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if post(addr, "GET", "/healthz", "", "").is_ok_and(|(s, _, _)| s == 200) {
            return child;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the service did not answer on {addr}");
}

/// One HTTP/1.1 request: status, `X-Audit-Seq`, body.
pub fn post(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: &str,
    body: &str,
) -> std::io::Result<(u16, Option<i64>, String)> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(2))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    let auth = if token.is_empty() {
        String::new()
    } else {
        format!("Authorization: Bearer {token}\r\n")
    };
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: t\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut raw = String::new();
    s.read_to_string(&mut raw)?;
    let (head, body) = raw
        .split_once("\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("incomplete response"))?;
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let seq = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("x-audit-seq: ")
                .map(str::to_string)
        })
        .and_then(|v| v.trim().parse().ok());
    Ok((status, seq, body.to_string()))
}
