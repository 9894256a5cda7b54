//! The store on both databases: migrations, the audit writer and chain, tamper detection, the
//! signing key.

mod common;

use common::TestDb;
use sqlx::Connection;
use store::{AuditWriter, NewRecord, Store};

fn record(n: usize) -> NewRecord {
    NewRecord {
        at: format!("2026-11-23T10:00:00.{n:03}Z"),
        actor: format!("lege-{}", n % 7),
        role: "prescriber".into(),
        action: "decide".into(),
        rule_set: "legemiddel-regler 2026.11.1; § 1b-liste 2024-11-01".into(),
        request: format!("{{\"n\":{n},\"drug\":{{\"substance\":\"æøå \\\"sitat\\\"\"}}}}"),
        response: "{\"payer\":\"rhf\"}".into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_records_form_one_verified_chain_and_survive_a_restart() {
    for db in TestDb::all().await {
        let store = Store::open(&db.location).await.unwrap();
        store.migrate().await.unwrap(); // again: idempotent
        let writer = AuditWriter::start(store.clone()).await.unwrap();
        let tasks: Vec<_> = (0..300)
            .map(|n| {
                let w = writer.clone();
                tokio::spawn(async move { w.record(record(n)).await.unwrap() })
            })
            .collect();
        let mut seqs = Vec::new();
        for t in tasks {
            seqs.push(t.await.unwrap().seq);
        }
        seqs.sort();
        assert_eq!(seqs, (1..=300).collect::<Vec<i64>>(), "{:?}", db.location);
        let v = store.verify_audit().await.unwrap();
        assert_eq!(
            (v.records, v.broken.clone()),
            (300, None),
            "{:?}",
            db.location
        );

        // A new process continues the same chain.
        drop(writer);
        let store = Store::open(&db.location).await.unwrap();
        let writer = AuditWriter::start(store.clone()).await.unwrap();
        assert_eq!(writer.record(record(999)).await.unwrap().seq, 301);
        assert_eq!(store.verify_audit().await.unwrap().broken, None);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_trail_is_append_only_and_tampering_is_detected() {
    for db in TestDb::all().await {
        let store = Store::open(&db.location).await.unwrap();
        let writer = AuditWriter::start(store.clone()).await.unwrap();
        for n in 0..5 {
            writer.record(record(n)).await.unwrap();
        }
        let mut raw = sqlx::AnyConnection::connect(&db.url).await.unwrap();
        let update = "UPDATE audit SET response = '{\"payer\":\"patient\"}' WHERE seq = 3";
        assert!(
            sqlx::query(update).execute(&mut raw).await.is_err(),
            "updates are refused"
        );
        assert!(
            sqlx::query("DELETE FROM audit WHERE seq = 2")
                .execute(&mut raw)
                .await
                .is_err(),
            "deletes are refused"
        );

        // Someone with direct database access removes the guard and changes a record.
        let unguard = if db.url.starts_with("postgres") {
            "ALTER TABLE audit DISABLE TRIGGER audit_no_change"
        } else {
            "DROP TRIGGER audit_no_update"
        };
        sqlx::query(unguard).execute(&mut raw).await.unwrap();
        sqlx::query(update).execute(&mut raw).await.unwrap();
        let v = store.verify_audit().await.unwrap();
        assert_eq!(
            v.broken,
            Some(store::chain::Break::Content { seq: 3 }),
            "{:?}",
            db.location
        );
        assert_eq!(v.records, 2);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_signing_key_stays() {
    for db in TestDb::all().await {
        let store = Store::open(&db.location).await.unwrap();
        assert_eq!(store.signing_key().await.unwrap(), None);
        let first = store
            .signing_key_or_insert("k1", &[1, 2, 3], "2026-11-23T10:00:00Z")
            .await
            .unwrap();
        let second = store
            .signing_key_or_insert("k2", &[4, 5, 6], "2026-11-23T11:00:00Z")
            .await
            .unwrap();
        assert_eq!(first, ("k1".to_string(), vec![1, 2, 3]));
        assert_eq!(second, first);
    }
}

fn event(action: &str, to: &str) -> store::CaseEvent {
    store::CaseEvent {
        version: 0,
        at: "2026-11-24T10:00:00.000Z".into(),
        actor: "lege-1".into(),
        actor_name: "Kari Lege".into(),
        role: "prescriber".into(),
        action: action.into(),
        from_state: None,
        to_state: to.into(),
        record: format!("{action} → {to}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_changes_only_from_its_current_version_and_keeps_every_event() {
    for db in TestDb::all().await {
        let store = Store::open(&db.location).await.unwrap();
        let data = store::CaseData {
            kind: "off_label".into(),
            state: "draft".into(),
            author: "lege-1".into(),
            author_name: "Kari Lege".into(),
            trust: Some("OUS".into()),
            atc: "L01FF02".into(),
            substance: "pembrolizumab «æøå»".into(),
            patients: 1,
            cost_ore: 85_000_000,
            fields: "{\"atc\":\"L01FF02\"}".into(),
            omeq: Some(90.5),
            created: "2026-11-24T10:00:00.000Z".into(),
            ..Default::default()
        };
        let (id, created) = store
            .create_case(&data, &event("create", "draft"), |id| NewRecord {
                action: "case:off_label:create".into(),
                request: format!("{{\"case\":{id}}}"),
                response: "{\"version\":1}".into(),
                ..record(0)
            })
            .await
            .unwrap();
        assert_eq!(created.seq, 1, "the case's audit record is written with it");
        let stored = store.case(id).await.unwrap().unwrap();
        assert_eq!(
            (stored.version, &stored.data),
            (1, &data),
            "{:?}",
            db.location
        );

        let submitted = store::CaseData {
            state: "submitted".into(),
            ..data.clone()
        };
        let case_record = |version: i64| NewRecord {
            action: "case:off_label:move".into(),
            request: format!("{{\"case\":{id}}}"),
            response: format!("{{\"version\":{version}}}"),
            ..record(0)
        };
        let (v2, moved) = store
            .update_case(
                id,
                1,
                &submitted,
                &event("submit", "submitted"),
                case_record(2),
            )
            .await
            .unwrap();
        assert_eq!((v2, moved.seq), (2, 2));
        // A second change made from version 1 (a stale form) is refused and writes nothing.
        let stale = store::CaseData {
            state: "withdrawn".into(),
            ..data.clone()
        };
        match store
            .update_case(
                id,
                1,
                &stale,
                &event("withdraw", "withdrawn"),
                case_record(2),
            )
            .await
        {
            Err(store::StoreError::Stale {
                expected: 1,
                current: 2,
                ..
            }) => {}
            other => panic!("{other:?}"),
        }
        let now = store.case(id).await.unwrap().unwrap();
        assert_eq!((now.version, now.data.state.as_str()), (2, "submitted"));
        let events = store.case_events(id).await.unwrap();
        let seen: Vec<(i64, &str)> = events
            .iter()
            .map(|e| (e.version, e.action.as_str()))
            .collect();
        assert_eq!(seen, [(1, "create"), (2, "submit")]);
        // The refused change wrote no audit record either; every event has its record.
        assert_eq!(store.audit_head().await.unwrap().0, 2);
        assert_eq!(store.case_events_without_audit().await.unwrap(), vec![]);

        let listed = store
            .cases(&store::CaseFilter {
                kind: Some("off_label".into()),
                states: vec!["submitted".into(), "recommended".into()],
                trust_or_home: Some("OUS".into()),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(listed.len(), 1);
        assert!(
            store
                .cases(&store::CaseFilter {
                    author: Some("x".into()),
                    ..Default::default()
                })
                .await
                .unwrap()
                .is_empty()
        );

        let mut raw = sqlx::AnyConnection::connect(&db.url).await.unwrap();
        assert!(
            sqlx::query("DELETE FROM case_events")
                .execute(&mut raw)
                .await
                .is_err(),
            "case events are append-only"
        );
        assert!(matches!(
            store
                .update_case(9999, 1, &data, &event("x", "y"), case_record(2))
                .await,
            Err(store::StoreError::NotFound(9999))
        ));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fest_snapshot_is_stored_whole_once_and_read_back() {
    let mut bytes = Vec::new();
    fest::generate::write(
        &mut bytes,
        &fest::generate::Options {
            packages: 120,
            ..Default::default()
        },
    )
    .unwrap();
    let cat = fest::parse(&bytes[..], |_| {}).unwrap();
    for db in TestDb::all().await {
        let store = Store::open(&db.location).await.unwrap();
        assert!(store.latest_catalogue().await.unwrap().is_none());
        let first = store
            .import_catalogue(&cat, "abc", "test.xml", "2026-11-24T10:00:00Z")
            .await
            .unwrap();
        assert!(
            matches!(first, store::Imported::New(_)),
            "{:?}",
            db.location
        );
        let again = store
            .import_catalogue(&cat, "abc", "test.xml", "2026-11-24T11:00:00Z")
            .await
            .unwrap();
        assert!(
            matches!(again, store::Imported::AlreadyThere(_)),
            "re-import is a no-op"
        );
        let mut later = cat.clone();
        later.retrieved = "2026-12-01T02:00:00".into();
        later.packages.truncate(10);
        store
            .import_catalogue(&later, "def", "later.xml", "2026-12-01T10:00:00Z")
            .await
            .unwrap();
        let snapshots = store.snapshots().await.unwrap();
        assert_eq!(snapshots.len(), 2, "earlier snapshots are kept");
        let (newest, read) = store.latest_catalogue().await.unwrap().unwrap();
        assert_eq!(
            (newest.retrieved.as_str(), read.packages.len()),
            ("2026-12-01T02:00:00", 10)
        );
        let old = store.catalogue(&snapshots[1]).await.unwrap();
        assert_eq!(old.packages.len(), 120);
        assert_eq!(old.refunds, cat.refunds, "{:?}", db.location);
        assert_eq!(old.products.len(), cat.products.len());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncate_is_refused_like_update_and_delete() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let store = Store::open(&db.location).await.unwrap();
    let writer = AuditWriter::start(store.clone()).await.unwrap();
    writer.record(record(1)).await.unwrap();
    let mut raw = sqlx::AnyConnection::connect(&db.url).await.unwrap();
    for table in ["audit", "case_events", "audit_head"] {
        let sql = format!("TRUNCATE {table} CASCADE");
        assert!(
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(&mut raw)
                .await
                .is_err(),
            "TRUNCATE {table} went through"
        );
    }
    assert_eq!(store.verify_audit().await.unwrap().records, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writers_in_separate_processes_extend_one_chain() {
    // Two stores on one database stand for two `serve` processes: each writer takes the head
    // under the database's lock, so neither forks the chain nor reuses a number.
    for db in TestDb::all().await {
        let a = AuditWriter::start(Store::open(&db.location).await.unwrap())
            .await
            .unwrap();
        let b = AuditWriter::start(Store::open(&db.location).await.unwrap())
            .await
            .unwrap();
        let tasks: Vec<_> = (0..200)
            .map(|n| {
                let w = if n % 2 == 0 { a.clone() } else { b.clone() };
                tokio::spawn(async move { w.record(record(n)).await.unwrap().seq })
            })
            .collect();
        let mut seqs = Vec::new();
        for t in tasks {
            seqs.push(t.await.unwrap());
        }
        seqs.sort_unstable();
        assert_eq!(seqs, (1..=200).collect::<Vec<i64>>(), "{:?}", db.location);
        let store = Store::open(&db.location).await.unwrap();
        let v = store.verify_audit().await.unwrap();
        assert_eq!((v.records, v.broken), (200, None), "{:?}", db.location);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_case_event_without_its_audit_record_is_found() {
    for db in TestDb::all().await {
        let store = Store::open(&db.location).await.unwrap();
        let data = store::CaseData {
            kind: "helfo".into(),
            state: "manual".into(),
            author: "lege-1".into(),
            author_name: "Kari Lege".into(),
            atc: "N02AA01".into(),
            substance: "morfin".into(),
            fields: "{}".into(),
            created: "2026-11-30T10:00:00.000Z".into(),
            ..Default::default()
        };
        let (id, _) = store
            .create_case(&data, &event("submit", "manual"), |id| NewRecord {
                action: "case:helfo:submit".into(),
                request: format!("{{\"case\":{id}}}"),
                response: "{\"version\":1}".into(),
                ..record(0)
            })
            .await
            .unwrap();
        assert_eq!(store.case_events_without_audit().await.unwrap(), vec![]);
        // An event written behind the service's back (or by a version before issue 9).
        let mut raw = sqlx::AnyConnection::connect(&db.url).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO case_events (case_id, version, at, actor, actor_name, role, action, from_state, to_state, record) \
             VALUES ({id}, 2, 'x', 'x', 'x', 'x', 'ruling', 'manual', 'granted', 'x')"
        )))
        .execute(&mut raw)
        .await
        .unwrap();
        assert_eq!(
            store.case_events_without_audit().await.unwrap(),
            vec![(id, 2)],
            "{:?}",
            db.location
        );
    }
}

/// Migration 0007 rebuilds SQLite's `cases` table to admit a third kind: a database made before
/// it keeps every case and event, the events still point at their cases, and the new kind is
/// accepted while an unknown one is still refused.
#[tokio::test]
async fn the_cases_table_rebuild_keeps_what_was_stored() {
    let dir = std::env::temp_dir().join(format!("legemiddel-mig7-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let old = dir.join("old");
    std::fs::create_dir_all(&old).unwrap();
    for f in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite")).unwrap() {
        let f = f.unwrap();
        let name = f.file_name().into_string().unwrap();
        if name.as_str() < "0007" {
            std::fs::copy(f.path(), old.join(&name)).unwrap();
        }
    }
    let file = dir.join("legemiddel.db");
    let url = format!("sqlite://{}?mode=rwc", file.display());
    {
        let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::migrate::Migrator::new(old.as_path())
            .await
            .unwrap()
            .run(&mut c)
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO cases (kind, state, version, author, author_name, atc, substance, fields, created, updated) \
             VALUES ('helfo', 'granted', 1, 'a', 'A', 'R03DC03', 'montelukast', '{}', 't', 't')",
        )
        .execute(&mut c)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO case_events (case_id, version, at, actor, actor_name, role, action, to_state, record) \
             VALUES (1, 1, 't', 'a', 'A', 'prescriber', 'submit', 'granted', 'r')",
        )
        .execute(&mut c)
        .await
        .unwrap();
        c.close().await.unwrap();
    }
    let store = Store::open(&store::Location::DataDir(dir.clone()))
        .await
        .unwrap();
    let case = store
        .case(1)
        .await
        .unwrap()
        .expect("the case is still there");
    assert_eq!(
        (case.data.kind.as_str(), case.data.substance.as_str()),
        ("helfo", "montelukast")
    );
    assert_eq!(store.case_events(1).await.unwrap().len(), 1);
    let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let broken: Vec<(String,)> = sqlx::query_as("SELECT \"table\" FROM pragma_foreign_key_check")
        .fetch_all(&mut c)
        .await
        .unwrap();
    assert!(broken.is_empty(), "{broken:?}");
    let insert = "INSERT INTO cases (kind, state, version, author, author_name, atc, substance, fields, created, updated) \
         VALUES (?, 'notified', 1, 'a', 'A', 'N05CH01', 'melatonin', '{}', 't', 't')";
    sqlx::query(insert)
        .bind("exemption")
        .execute(&mut c)
        .await
        .unwrap();
    assert!(
        sqlx::query(insert)
            .bind("other")
            .execute(&mut c)
            .await
            .is_err()
    );
    // New ids go on after the old ones.
    let id: (i64,) = sqlx::query_as("SELECT max(id) FROM cases")
        .fetch_one(&mut c)
        .await
        .unwrap();
    assert_eq!(id.0, 2);
    let _ = std::fs::remove_dir_all(&dir);
}
