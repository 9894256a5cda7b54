//! `legemiddel audit head` and `audit verify --expect-head`, as an operator uses them: a head
//! kept outside the database shows a trail cut short at its end, and one re-hashed from a
//! changed record onwards — both of which the chain alone cannot show.

use std::path::{Path, PathBuf};
use std::process::Command;

use sqlx::Connection;
use store::{AuditWriter, Location, NewRecord, Store};

fn legemiddel(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_legemiddel"))
        .args(args)
        .env_remove("LEGEMIDDEL_RULES")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn record(n: usize) -> NewRecord {
    NewRecord {
        at: format!("2026-11-30T10:00:{n:02}.000Z"),
        actor: "lege-1".into(),
        role: "prescriber".into(),
        action: "decide".into(),
        rule_set: "legemiddel-regler".into(),
        request: format!("{{\"n\":{n}}}"),
        response: "{\"payer\":\"rhf\"}".into(),
    }
}

/// A data folder with a key and `n` audit records; removed on drop.
struct Data(PathBuf);

impl Data {
    fn new(name: &str, n: usize) -> Data {
        let dir =
            std::env::temp_dir().join(format!("legemiddel-head-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let (code, _, err) = legemiddel(&[
            "token",
            "--data",
            dir.to_str().unwrap(),
            "--role",
            "administrator",
            "--name",
            "drift",
        ]);
        assert_eq!(code, 0, "{err}");
        tokio::runtime::Runtime::new().unwrap().block_on(async {
            let store = Store::open(&Location::DataDir(dir.clone())).await.unwrap();
            let writer = AuditWriter::start(store).await.unwrap();
            for i in 0..n {
                writer.record(record(i)).await.unwrap();
            }
        });
        Data(dir)
    }

    fn arg(&self) -> &str {
        self.0.to_str().unwrap()
    }

    /// Raw SQL on the database, as someone with file access would run it.
    fn tamper(&self, statements: &[String]) {
        let url = format!("sqlite://{}", self.0.join("legemiddel.db").display());
        tokio::runtime::Runtime::new().unwrap().block_on(async {
            let mut c = sqlx::AnyConnection::connect(&url).await.unwrap();
            for s in statements {
                sqlx::query(sqlx::AssertSqlSafe(s.clone()))
                    .execute(&mut c)
                    .await
                    .unwrap();
            }
        });
    }

    fn records(&self) -> Vec<store::Record> {
        tokio::runtime::Runtime::new().unwrap().block_on(async {
            let store = Store::open(&Location::DataDir(self.0.clone()))
                .await
                .unwrap();
            store.audit_after(0, 1_000).await.unwrap()
        })
    }
}

impl Drop for Data {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn keep_head(data: &Data) -> PathBuf {
    let (code, out, err) = legemiddel(&["audit", "head", "--data", data.arg()]);
    assert_eq!(code, 0, "{err}");
    let head: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(head["seq"], 6);
    assert!(head["signature"].as_str().is_some_and(|s| s.len() > 80));
    let file = data.0.with_extension("head.json");
    std::fs::write(&file, out).unwrap();
    file
}

fn verify(data: &Data, head: &Path) -> (i32, String, String) {
    legemiddel(&[
        "audit",
        "verify",
        "--data",
        data.arg(),
        "--expect-head",
        head.to_str().unwrap(),
    ])
}

#[test]
fn a_kept_head_shows_a_tail_cut_off_behind_the_services_back() {
    let data = Data::new("tail", 6);
    let head = keep_head(&data);
    let (code, out, err) = verify(&data, &head);
    assert_eq!(code, 0, "{out}{err}");

    // Someone with the database file removes the guard, the last two records and sets the
    // stored head to match: the chain itself is whole again.
    let fourth = &data.records()[3].hash;
    data.tamper(&[
        "DROP TRIGGER audit_no_delete".into(),
        "DELETE FROM audit WHERE seq > 4".into(),
        format!("UPDATE audit_head SET seq = 4, hash = '{fourth}'"),
    ]);
    let (code, _, _) = legemiddel(&["audit", "verify", "--data", data.arg()]);
    assert_eq!(code, 0, "without the kept head the cut is invisible");
    let (code, _, err) = verify(&data, &head);
    assert_eq!(code, 1);
    assert!(err.contains("når ikke hodet"), "{err}");
    let _ = std::fs::remove_file(head);
}

#[test]
fn a_kept_head_shows_a_chain_rehashed_from_a_changed_record() {
    let data = Data::new("rehash", 6);
    let head = keep_head(&data);
    // Record 3 is changed and every hash from it on recomputed, head row included.
    let records = data.records();
    let mut contents: Vec<NewRecord> = records[2..].iter().map(|r| r.content.clone()).collect();
    contents[0].response = "{\"payer\":\"patient\"}".into();
    let relinked = store::chain::link(2, &records[1].hash, contents);
    let mut sql = vec!["DROP TRIGGER audit_no_update".to_string()];
    for r in &relinked {
        sql.push(format!(
            "UPDATE audit SET response = '{}', prev_hash = '{}', hash = '{}' WHERE seq = {}",
            r.content.response, r.prev_hash, r.hash, r.seq
        ));
    }
    let last = relinked.last().unwrap();
    sql.push(format!("UPDATE audit_head SET hash = '{}'", last.hash));
    data.tamper(&sql);
    let (code, _, _) = legemiddel(&["audit", "verify", "--data", data.arg()]);
    assert_eq!(code, 0, "a re-hashed chain verifies on its own");
    let (code, _, err) = verify(&data, &head);
    assert_eq!(code, 1);
    assert!(err.contains("hashet om"), "{err}");

    // A head file someone edited to match is not signed by the service.
    let mut forged: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&head).unwrap()).unwrap();
    forged["hash"] = serde_json::json!(last.hash);
    std::fs::write(&head, forged.to_string()).unwrap();
    let (code, _, err) = verify(&data, &head);
    assert_eq!(code, 1);
    assert!(err.contains("ikke signert"), "{err}");
    let _ = std::fs::remove_file(head);
}
