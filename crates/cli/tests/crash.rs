//! The crash test: `kill -9` the service while it records decisions under load, start it again,
//! and show that every acknowledged decision is in the audit trail, as sent, and that the hash
//! chain verifies.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

mod service;

use service::{free_port, legemiddel, post, start};

fn request(marker: &str) -> String {
    format!(
        r#"{{"date":"2025-02-10","drug":{{"atc":"C10AA05","substance":"atorvastatin","brand":"{marker}"}},"prescriber":{{"role":"gp"}},"use":{{"refund_listed":true}}}}"#
    )
}

#[test]
fn kill_9_under_load_loses_no_acknowledged_record() {
    let data = std::env::temp_dir().join(format!("legemiddel-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let mut server = start(&data, addr);
    let token = String::from_utf8(
        legemiddel()
            .args([
                "token",
                "--data",
                data.to_str().unwrap(),
                "--role",
                "prescriber",
                "--name",
                "krasj",
            ])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap()
    .trim()
    .to_string();

    // Load from four clients; every 200 answer is an acknowledged record.
    let acknowledged = Arc::new(Mutex::new(Vec::<(i64, String)>::new()));
    let killed = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..4)
        .map(|c| {
            let (acknowledged, killed, token) =
                (acknowledged.clone(), killed.clone(), token.clone());
            std::thread::spawn(move || {
                for n in 0.. {
                    let marker = format!("krasj-{c}-{n}");
                    let answer = post(addr, "POST", "/api/v1/decide", &token, &request(&marker));
                    if killed.load(Ordering::SeqCst) {
                        // After the kill, only answers that did arrive count.
                        if let Ok((200, Some(seq), _)) = answer {
                            acknowledged.lock().unwrap().push((seq, marker));
                        }
                        return;
                    }
                    match answer {
                        Ok((200, Some(seq), _)) => acknowledged.lock().unwrap().push((seq, marker)),
                        Ok((status, _, body)) => panic!("{status}: {body}"),
                        // The kill may land between our check and the request.
                        Err(_) => std::thread::sleep(Duration::from_millis(10)),
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    server.kill().unwrap(); // SIGKILL: no shutdown, no flush
    killed.store(true, Ordering::SeqCst);
    server.wait().unwrap();
    for c in clients {
        c.join().unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() > 50,
        "the load ran: {} acknowledged",
        acknowledged.len()
    );

    // Start again: the service continues the chain.
    let mut server = start(&data, addr);
    let (status, seq, _) = post(
        addr,
        "POST",
        "/api/v1/decide",
        &token,
        &request("etter-krasj"),
    )
    .unwrap();
    assert_eq!(status, 200);
    let after = seq.unwrap();
    Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .unwrap();
    server.wait().unwrap();

    let verify = legemiddel()
        .args(["audit", "verify", "--data", data.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );

    // Every acknowledged record is there, at its place, with what was asked.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let records = rt.block_on(async {
        let store = store::Store::open(&store::Location::DataDir(data.clone()))
            .await
            .unwrap();
        store.audit_after(0, 1_000_000).await.unwrap()
    });
    assert_eq!(
        records.last().unwrap().seq,
        after,
        "the record after the restart ends the chain"
    );
    for (seq, marker) in &acknowledged {
        let r = &records[(*seq - 1) as usize];
        assert_eq!(r.seq, *seq);
        assert!(
            r.content.request.contains(marker.as_str()),
            "record {seq} should hold {marker}"
        );
    }
    eprintln!(
        "{} decisions acknowledged before kill -9; {} records after restart; chain verifies",
        acknowledged.len(),
        records.len()
    );
    let _ = std::fs::remove_dir_all(&data);
}

fn token(data: &Path, role: &str, name: &str, trust: &str) -> String {
    let out = legemiddel()
        .args([
            "token",
            "--data",
            data.to_str().unwrap(),
            "--role",
            role,
            "--name",
            name,
            "--trust",
            trust,
        ])
        .args(["--prescriber-role", "hospital_doctor"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

const OFF_LABEL: &str = r#"{"submit": true, "fields": {"scope": "patient", "patient_ref": "J-1", "clinic": "Kreft",
  "atc": "L01FF02", "substance": "pembrolizumab", "use_kind": "off_label", "indication": "Sarkom",
  "setting": "patient_administered", "nye_metoder": "none", "documentation": "phase_ii",
  "references": "Smith 2024", "ecog": 1, "safety": "s", "uncertainty": "u", "consequences": "c",
  "cost_estimate": "1000", "consent_recorded": true, "plan_purpose": "p", "plan_dosing": "d",
  "evaluation_dates": ["2099-01-01"], "stop_rules": ["Progresjon"]}}"#;

/// Case workflows under `kill -9`: every acknowledged step is stored, and every case's row and
/// its event history agree (they commit together or not at all).
#[test]
fn kill_9_between_case_steps_loses_no_acknowledged_step() {
    let data = std::env::temp_dir().join(format!("legemiddel-crash-cases-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let mut server = start(&data, addr);
    let doctor = token(&data, "prescriber", "lege", "OUS");
    let head = token(&data, "clinic_head", "klinikkleder", "OUS");

    let acknowledged = Arc::new(Mutex::new(Vec::<(i64, i64)>::new()));
    let killed = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..3)
        .map(|_| {
            let (acknowledged, killed, doctor, head) = (
                acknowledged.clone(),
                killed.clone(),
                doctor.clone(),
                head.clone(),
            );
            std::thread::spawn(move || {
                while !killed.load(Ordering::SeqCst) {
                    let Ok((201, _, body)) =
                        post(addr, "POST", "/api/v1/off-label", &doctor, OFF_LABEL)
                    else {
                        continue;
                    };
                    let id: i64 = serde_json::from_str::<serde_json::Value>(&body).unwrap()["id"]
                        .as_i64()
                        .unwrap();
                    acknowledged.lock().unwrap().push((id, 1));
                    let recommend = r#"{"version": 1, "move": "recommend", "reason": "ok"}"#;
                    if let Ok((200, _, _)) = post(
                        addr,
                        "POST",
                        &format!("/api/v1/off-label/{id}/moves"),
                        &head,
                        recommend,
                    ) {
                        acknowledged.lock().unwrap().push((id, 2));
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    server.kill().unwrap();
    killed.store(true, Ordering::SeqCst);
    server.wait().unwrap();
    for c in clients {
        c.join().unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() > 5,
        "the load ran: {} steps",
        acknowledged.len()
    );

    let rt = tokio::runtime::Runtime::new().unwrap();
    let (cases, all_agree) = rt.block_on(async {
        let store = store::Store::open(&store::Location::DataDir(data.clone()))
            .await
            .unwrap();
        let cases = store.cases(&store::CaseFilter::default()).await.unwrap();
        let mut agree = true;
        for c in &cases {
            let events = store.case_events(c.id).await.unwrap();
            agree &= events.len() as i64 == c.version
                && events.last().is_some_and(|e| e.to_state == c.data.state);
        }
        (cases, agree)
    });
    assert!(all_agree, "every case row agrees with its events");
    for (id, version) in &acknowledged {
        let c = cases
            .iter()
            .find(|c| c.id == *id)
            .unwrap_or_else(|| panic!("case {id} lost"));
        assert!(c.version >= *version, "case {id} lost step {version}");
    }
    eprintln!(
        "{} case steps acknowledged before kill -9; all stored; {} cases agree with their events",
        acknowledged.len(),
        cases.len()
    );
    drop(rt);
    let _ = std::fs::remove_dir_all(&data);
}
