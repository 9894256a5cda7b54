//! What the service's tests share: a service on a fresh database (SQLite or PostgreSQL) on a
//! loopback port, and a minimal HTTP/1.1 client.

#![allow(dead_code)]

#[path = "../../../store/tests/common/mod.rs"]
mod common;

use std::net::SocketAddr;
use std::sync::Arc;

pub use common::TestDb;
use server::{App, Config, LocalKey};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A running service.
pub struct TestApp {
    pub addr: SocketAddr,
    pub key: LocalKey,
    pub store: store::Store,
    _db: TestDb,
}

/// Starts the service on `db`.
pub async fn spawn(db: TestDb) -> TestApp {
    spawn_with(db, |_| {}).await
}

/// Starts the service on `db` with its configuration changed by `change` first.
pub async fn spawn_with(db: TestDb, change: impl FnOnce(&mut Config)) -> TestApp {
    let rules = Arc::new(ruleset::RuleSet::embedded().unwrap());
    let mut config = Config::new("127.0.0.1:0".parse().unwrap(), db.location.clone(), rules);
    change(&mut config);
    let app = App::build(config).await.expect("the app builds");
    let addr = app.local_addr();
    tokio::spawn(app.run_until(std::future::pending()));
    let store = store::Store::open(&db.location).await.unwrap();
    let key = server::local_key(&store).await.unwrap();
    TestApp {
        addr,
        key,
        store,
        _db: db,
    }
}

/// A minimal HTTP/1.1 client: one request per connection, status and body back.
pub async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &str,
) -> (u16, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: test\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8_lossy(&raw).to_string();
    let status: u16 = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// A JSON call with a bearer token: the status and the answer as JSON (text that is not JSON as
/// a JSON string); a `null` body sends none.
#[allow(dead_code)]
pub async fn call(
    app: &TestApp,
    method: &str,
    path: &str,
    token: &str,
    body: &serde_json::Value,
) -> (u16, serde_json::Value) {
    let body = if body.is_null() {
        String::new()
    } else {
        body.to_string()
    };
    let (status, text) = http(app.addr, method, path, Some(token), &body).await;
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
    )
}

/// A token signed with the service's own key: `test:{who}` in `role`, with a trust and a
/// prescriber role if given.
pub fn token(
    app: &TestApp,
    who: &str,
    role: server::Role,
    trust: Option<&str>,
    prescriber: Option<&str>,
) -> String {
    let now = chrono::Utc::now().timestamp();
    app.key.sign_claims(&server::auth::Claims {
        sub: format!("test:{who}"),
        name: Some(who.into()),
        iss: server::auth::LOCAL_ISSUER.into(),
        aud: server::auth::LOCAL_AUDIENCE.into(),
        exp: now + 3600,
        iat: now,
        nbf: None,
        cnf: None,
        roles: vec![role.code().into()],
        role: None,
        prescriber_role: prescriber.map(str::to_string),
        trust: trust.map(str::to_string),
        scope: None,
        other: Default::default(),
    })
}

/// An answer with its headers.
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    /// A header's value (names compared without case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The answer as JSON (panics with the body if it is not).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.status, self.body))
    }
}

/// One request with any headers (`Content-Length` and `Connection: close` are added).
pub async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Reply {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let extra: String = headers
        .iter()
        .map(|(k, v)| format!("{k}: {v}\r\n"))
        .collect();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    Reply {
        status,
        headers,
        body: body.to_string(),
    }
}

/// A decision request any decider may send; `marker` makes it recognisable in the trail.
pub fn decide_body(marker: usize) -> String {
    format!(
        r#"{{"date":"2025-01-15","drug":{{"atc":"H02AB13","substance":"deflazacort {marker}"}},"prescriber":{{"role":"hospital_doctor"}}}}"#
    )
}

/// A CDS Hooks 2.0 answer as the specification defines it (§ CDS Service Response, Card
/// Attributes, Suggestion, Action), checked field by field; and no empty list anywhere, which
/// the specification asks of optional arrays.
pub fn assert_valid_cards(answer: &serde_json::Value) {
    let cards = answer["cards"].as_array().expect("a list of cards");
    assert!(!cards.is_empty(), "{answer}");
    assert_no_empty_lists(answer, "$");
    let is_uuid = |v: &serde_json::Value| {
        v.as_str().is_some_and(|u| {
            u.len() == 36
                && u.char_indices().all(|(i, c)| {
                    if [8, 13, 18, 23].contains(&i) {
                        c == '-'
                    } else {
                        c.is_ascii_hexdigit()
                    }
                })
        })
    };
    for c in cards {
        assert!(is_uuid(&c["uuid"]), "card uuid: {c}");
        let summary = c["summary"].as_str().expect("summary");
        assert!(
            !summary.is_empty() && summary.chars().count() < 140,
            "{summary}"
        );
        assert!(
            ["info", "warning", "critical"].contains(&c["indicator"].as_str().unwrap_or("")),
            "{c}"
        );
        assert!(
            c["source"]["label"].as_str().is_some_and(|l| !l.is_empty()),
            "{c}"
        );
        if let Some(detail) = c.get("detail") {
            assert!(detail.is_string(), "{c}");
        }
        if let Some(suggestions) = c.get("suggestions") {
            assert!(
                ["at-most-one", "any"].contains(&c["selectionBehavior"].as_str().unwrap_or("")),
                "selectionBehavior with suggestions: {c}"
            );
            for s in suggestions.as_array().expect("suggestions is a list") {
                assert!(s["label"].as_str().is_some_and(|l| !l.is_empty()), "{s}");
                assert!(is_uuid(&s["uuid"]), "suggestion uuid: {s}");
                if let Some(r) = s.get("isRecommended") {
                    assert!(r.is_boolean(), "{s}");
                }
                for a in s["actions"].as_array().into_iter().flatten() {
                    let kind = a["type"].as_str().unwrap_or("");
                    assert!(["create", "update", "delete"].contains(&kind), "{a}");
                    assert!(a["description"].is_string(), "{a}");
                    if kind == "delete" {
                        assert!(a["resourceId"].is_array(), "{a}");
                    } else {
                        assert!(a["resource"]["resourceType"].is_string(), "{a}");
                    }
                }
            }
        }
        for l in c["links"].as_array().into_iter().flatten() {
            assert!(l["label"].is_string() && l["url"].is_string(), "{l}");
            assert!(
                ["absolute", "smart"].contains(&l["type"].as_str().unwrap_or("")),
                "{l}"
            );
        }
    }
}

fn assert_no_empty_lists(v: &serde_json::Value, path: &str) {
    match v {
        serde_json::Value::Array(items) => {
            assert!(!items.is_empty(), "an empty list at {path}");
            for (i, x) in items.iter().enumerate() {
                assert_no_empty_lists(x, &format!("{path}[{i}]"));
            }
        }
        serde_json::Value::Object(map) => {
            for (k, x) in map {
                assert_no_empty_lists(x, &format!("{path}.{k}"));
            }
        }
        _ => {}
    }
}
