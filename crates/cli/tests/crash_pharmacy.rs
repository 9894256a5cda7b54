//! The pharmacy's crash test: `kill -9` the service while pharmacies record dispensings, and
//! `settle export` while it settles; start again, and show that every acknowledged dispensing is
//! stored with the answer it got, no dispensing has more than one claim, and every claim ends up
//! in exactly one settlement.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

mod service;

use service::{drop_database, free_port, legemiddel, places, post, start_on};

/// One request: status and body.
fn call(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: &str,
    body: &str,
) -> std::io::Result<(u16, String)> {
    post(addr, method, path, token, body).map(|(status, _, body)| (status, body))
}

fn dispensing(id: &str, patient: usize) -> String {
    format!(
        r#"{{"dispensing_id":"{id}","date":"2026-06-01","pharmacy":{{"id":"A1","name":"Apotek 1"}},"patient":{{"id_kind":"none","birth_date":"19{:02}-01-01"}},"prescription":{{"id":"r-{id}","form":"blue","issued":"2026-05-20","valid_until":"2027-05-20","prescriber":{{"hpr":"9144889","name":"Kari Lege","role":"gp"}},"refund_code":"K86"}},"drug":{{"varenr":"100000"}},"packages":1}}"#,
        40 + patient % 50
    )
}

#[test]
fn kill_9_loses_no_acknowledged_dispensing_and_bills_nothing_twice() {
    let dir = std::env::temp_dir().join(format!("legemiddel-crash-apotek-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for (location, flag, place) in places(&dir) {
        eprintln!("krasjtest: {place}");
        crash_on(&dir, flag, &place);
        if let store::Location::Url(url) = location {
            drop_database(&url);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The whole test on one place: `--data DIR` or `--database URL`.
fn crash_on(dir: &std::path::Path, flag: &str, d: &str) {
    let fest = dir.join("fest.xml");
    for args in [
        vec![
            "fest",
            "generate",
            "--packages",
            "200",
            "--out",
            fest.to_str().unwrap(),
        ],
        vec!["fest", "import", flag, d, fest.to_str().unwrap()],
    ] {
        let out = legemiddel().args(&args).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let token = String::from_utf8(
        legemiddel()
            .args(["token", flag, d, "--role", "pharmacist", "--name", "krasj"])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()
    .trim()
    .to_string();
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let mut server = start_on(flag, d, addr);

    // Four pharmacies send dispensings until the service dies under them.
    let acknowledged: Arc<Mutex<HashMap<String, (String, String)>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let (acked, stop, token) = (acknowledged.clone(), stop.clone(), token.clone());
            std::thread::spawn(move || {
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let id = format!("w{w}-{n}");
                    let body = dispensing(&id, w * 1000 + n);
                    if let Ok((status, answer)) =
                        call(addr, "POST", "/api/v1/pharmacy/dispensings", &token, &body)
                        && (status == 201 || status == 200)
                    {
                        acked.lock().unwrap().insert(id, (body, answer));
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    Command::new("kill")
        .args(["-9", &server.id().to_string()])
        .status()
        .unwrap();
    let _ = server.wait();
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().unwrap();
    }
    let acknowledged = std::mem::take(&mut *acknowledged.lock().unwrap());
    assert!(
        acknowledged.len() > 10,
        "too few dispensings before the kill: {}",
        acknowledged.len()
    );

    // Started again: every acknowledged dispensing answers the same, from storage.
    let mut server = start_on(flag, d, addr);
    for (id, (body, answer)) in &acknowledged {
        let (status, again) =
            call(addr, "POST", "/api/v1/pharmacy/dispensings", &token, body).unwrap();
        assert_eq!(
            status, 200,
            "{id} was acknowledged but is not stored: {again}"
        );
        assert_eq!(&again, answer, "{id} answers otherwise after the restart");
    }
    let (status, claims) = call(
        addr,
        "GET",
        "/api/v1/pharmacy/claims?payer=helfo",
        &token,
        "",
    )
    .unwrap();
    assert_eq!(status, 200, "{claims}");
    let claims: serde_json::Value = serde_json::from_str(&claims).unwrap();
    let claims = claims["claims"].as_array().unwrap();
    let mut per_dispensing: HashMap<&str, usize> = HashMap::new();
    for c in claims {
        *per_dispensing
            .entry(c["dispensing_id"].as_str().unwrap())
            .or_default() += 1;
    }
    assert!(
        per_dispensing.values().all(|&n| n == 1),
        "a dispensing billed twice"
    );
    for id in acknowledged.keys() {
        assert!(
            per_dispensing.contains_key(id.as_str()),
            "{id} acknowledged without its claim"
        );
    }
    Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    let _ = server.wait();

    // A settlement killed while it runs, then run again: every claim settled exactly once.
    let out = dir.join("helfo.xml");
    let settle = || {
        let mut c = legemiddel();
        c.args([
            "settle",
            "export",
            flag,
            d,
            "--payer",
            "helfo",
            "--period",
            "2026-06",
            "--out",
            out.to_str().unwrap(),
        ]);
        c
    };
    let mut export = settle()
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(30));
    let _ = Command::new("kill")
        .args(["-9", &export.id().to_string()])
        .status();
    let _ = export.wait();
    for _ in 0..2 {
        let done = settle().output().unwrap();
        assert!(
            done.status.success(),
            "{}",
            String::from_utf8_lossy(&done.stderr)
        );
    }
    let xml = std::fs::read_to_string(&out).unwrap();
    let numbers: Vec<&str> = xml
        .split("<m18:RegningsNr>")
        .skip(1)
        .filter_map(|s| s.split('<').next())
        .collect();
    let unique: HashSet<&str> = numbers.iter().copied().collect();
    assert_eq!(numbers.len(), unique.len(), "a claim in the file twice");
    assert_eq!(numbers.len(), claims.len(), "every claim settled, once");
}
