//! What the command-line tests share: the `legemiddel` binary, a free loopback port, a `serve`
//! started on a data folder or a database and waited for, a one-request HTTP/1.1 client, and the
//! places to run on (SQLite, and a fresh PostgreSQL database when one answers).

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
    start_on("--data", data.to_str().unwrap(), addr)
}

/// `serve` on `--data DIR` or `--database URL`, waited for.
pub fn start_on(flag: &str, place: &str, addr: SocketAddr) -> Child {
    let mut child = legemiddel()
        .args(["serve", flag, place, "--listen", &addr.to_string()])
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

/// Where to run: SQLite in a data folder, and PostgreSQL (a fresh database) when one answers at
/// `LEGEMIDDEL_TEST_POSTGRES` — required when `LEGEMIDDEL_REQUIRE_POSTGRES=1`, as in `.ci/run`.
pub fn places(dir: &Path) -> Vec<(store::Location, &'static str, String)> {
    let data = dir.join("data");
    let mut out = vec![(
        store::Location::DataDir(data.clone()),
        "--data",
        data.to_str().unwrap().to_string(),
    )];
    let admin = std::env::var("LEGEMIDDEL_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let required = std::env::var("LEGEMIDDEL_REQUIRE_POSTGRES").is_ok_and(|v| v == "1");
    let name = format!(
        "legemiddel_cli_{}_{}",
        std::process::id(),
        dir.file_name().map_or(String::new(), |n| n
            .to_string_lossy()
            .replace(|c: char| !c.is_ascii_alphanumeric(), "_"))
    );
    let created = tokio::runtime::Runtime::new().unwrap().block_on(async {
        use sqlx::Connection;
        sqlx::any::install_default_drivers();
        let mut c = sqlx::AnyConnection::connect(&admin).await.ok()?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name}"
        )))
        .execute(&mut c)
        .await
        .ok()?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut c)
            .await
            .ok()
    });
    match created {
        Some(_) => {
            let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
            let url = format!("{base}/{name}");
            out.push((store::Location::Url(url.clone()), "--database", url));
        }
        None => assert!(
            !required,
            "PostgreSQL at {admin} is required but does not answer"
        ),
    }
    out
}

/// Removes a test's PostgreSQL database.
pub fn drop_database(url: &str) {
    let Some((base, name)) = url.rsplit_once('/') else {
        return;
    };
    let admin =
        std::env::var("LEGEMIDDEL_TEST_POSTGRES").unwrap_or_else(|_| format!("{base}/test"));
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        use sqlx::Connection;
        if let Ok(mut c) = sqlx::AnyConnection::connect(&admin).await {
            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(&mut c)
            .await;
        }
    });
}

/// Runs `legemiddel` with `args`: exit code and everything it wrote (stdout, then stderr).
pub fn run(args: &[&str]) -> (i32, String) {
    let out = legemiddel().args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// Copies a folder tree (the rule data, to change a copy of it).
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}
