//! Issue 9, points 1, 2 and 4: nothing is acknowledged that is not stored — under a full disk,
//! a database that turns read-only or goes away, a database file deleted under the service —
//! and any number of instances share one audit chain on one database.

mod support;

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use server::Role;
use sqlx::{Connection, Row};
use support::{Reply, TestApp, TestDb, decide_body, request, spawn, spawn_with, token};

async fn decide(app: &TestApp, token: &str, marker: usize) -> Reply {
    decide_at(app.addr, token, marker).await
}

/// A decision request with a recognisable marker, to any instance.
async fn decide_at(addr: std::net::SocketAddr, token: &str, marker: usize) -> Reply {
    let auth = format!("Bearer {token}");
    request(
        addr,
        "POST",
        "/api/v1/decide",
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/json"),
        ],
        &decide_body(marker),
    )
    .await
}

/// Every acknowledged decision is stored under the sequence number it was given, holding the
/// request it acknowledged; no number was given twice; the chain verifies.
async fn assert_every_ack_is_stored(app: &TestApp, acked: &[(i64, usize)], place: &str) {
    let seqs: HashSet<i64> = acked.iter().map(|(s, _)| *s).collect();
    assert_eq!(
        seqs.len(),
        acked.len(),
        "a sequence number was given twice: {place}"
    );
    for (seq, marker) in acked {
        let record = app
            .store
            .audit_record(*seq)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("record {seq} was acknowledged but is not stored: {place}"));
        assert!(
            record
                .content
                .request
                .contains(&format!("deflazacort {marker}\"")),
            "record {seq} holds another request: {} ({place})",
            record.content.request
        );
    }
    let v = app.store.verify_audit().await.unwrap();
    assert_eq!(v.broken, None, "{place}");
}

async fn wait_ready(app: &TestApp, within: Duration) -> bool {
    let until = Instant::now() + within;
    while Instant::now() < until {
        if request(app.addr, "GET", "/readyz", &[], "").await.status == 200 {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_acknowledges_only_what_is_stored_and_the_service_recovers_by_itself() {
    let db = TestDb::sqlite();
    // The pages a migrated, empty database takes; the "disk" holds a few more.
    let base: u32 = {
        let _store = store::Store::open(&db.location).await.unwrap();
        let mut raw = sqlx::AnyConnection::connect(&db.url).await.unwrap();
        let row = sqlx::query("PRAGMA page_count")
            .fetch_one(&mut raw)
            .await
            .unwrap();
        u32::try_from(row.get::<i64, _>(0)).unwrap()
    };
    let cap = Arc::new(AtomicU32::new(base + 40));
    let pages = cap.clone();
    let app = spawn_with(db, move |c| c.store.sqlite_max_pages = Some(pages)).await;
    let doctor = token(
        &app,
        "lege",
        Role::Prescriber,
        None,
        Some("hospital_doctor"),
    );

    // Decisions arrive, eight at a time, until the disk is full and well after.
    let mut acked = Vec::new();
    let mut refused = 0;
    let mut marker = 0;
    while refused < 40 && marker < 4000 {
        let mut batch = Vec::new();
        for _ in 0..8 {
            marker += 1;
            let (app_addr, t, m) = (app.addr, doctor.clone(), marker);
            batch.push(tokio::spawn(async move {
                (decide_at(app_addr, &t, m).await, m)
            }));
        }
        for b in batch {
            let (r, m) = b.await.unwrap();
            match r.status {
                200 => {
                    let seq: i64 = r.header("x-audit-seq").unwrap().parse().unwrap();
                    acked.push((seq, m));
                }
                503 => refused += 1,
                other => panic!("unexpected {other}: {}", r.body),
            }
        }
    }
    assert!(
        refused >= 40,
        "the disk never filled ({} acknowledged)",
        acked.len()
    );
    assert!(!acked.is_empty());
    let full = request(app.addr, "GET", "/readyz", &[], "").await;
    assert_eq!(
        full.status, 503,
        "readiness while the disk is full: {}",
        full.body
    );
    // An off-label application sent now is refused, never acknowledged with a case id.
    let surgeon = token(
        &app,
        "kirurg",
        Role::Prescriber,
        Some("Helse Bergen HF"),
        Some("hospital_doctor"),
    );
    let application =
        serde_json::json!({ "fields": { "atc": "L01FF02", "substance": "pembrolizumab" } });
    let mut case_acks = Vec::new();
    for _ in 0..5 {
        let r = request(
            app.addr,
            "POST",
            "/api/v1/off-label",
            &[("Authorization", &format!("Bearer {surgeon}"))],
            &application.to_string(),
        )
        .await;
        match r.status {
            201 => case_acks.push(r.json()["id"].as_i64().unwrap()),
            503 => {}
            other => panic!("{other}: {}", r.body),
        }
    }
    for id in case_acks {
        assert!(
            app.store.case(id).await.unwrap().is_some(),
            "case {id} acknowledged, not stored"
        );
    }

    // Space comes back: the service serves again by itself, without a restart.
    cap.store(1_000_000, Ordering::Relaxed);
    assert!(
        wait_ready(&app, Duration::from_secs(15)).await,
        "/readyz did not recover"
    );
    let mut served_again = 0;
    let until = Instant::now() + Duration::from_secs(15);
    while served_again < 20 && Instant::now() < until {
        marker += 1;
        let r = decide(&app, &doctor, marker).await;
        if r.status == 200 {
            acked.push((r.header("x-audit-seq").unwrap().parse().unwrap(), marker));
            served_again += 1;
        }
    }
    assert_eq!(
        served_again, 20,
        "decisions are not served again after space came back"
    );
    assert_every_ack_is_stored(&app, &acked, "full disk").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_file_deleted_under_the_service_is_noticed_and_never_silently_recreated() {
    let db = TestDb::sqlite();
    let store::Location::DataDir(dir) = db.location.clone() else {
        unreachable!()
    };
    let app = spawn(db).await;
    let doctor = token(
        &app,
        "lege",
        Role::Prescriber,
        None,
        Some("hospital_doctor"),
    );
    assert_eq!(decide(&app, &doctor, 1).await.status, 200);
    for f in ["legemiddel.db", "legemiddel.db-wal", "legemiddel.db-shm"] {
        let _ = std::fs::remove_file(dir.join(f));
    }
    let r = decide(&app, &doctor, 2).await;
    assert_eq!(r.status, 503, "a decision into a deleted file: {}", r.body);
    let ready = request(app.addr, "GET", "/readyz", &[], "").await;
    assert_eq!(ready.status, 503);
    assert!(ready.body.contains("slettet"), "{}", ready.body);
    assert!(
        !dir.join("legemiddel.db").exists(),
        "the running service created an empty database in place of the deleted one"
    );

    // A restart does not start afresh with a new key and an empty trail.
    match store::Store::open(&store::Location::DataDir(dir.clone())).await {
        Err(store::StoreError::Identity(why)) => assert!(why.contains("mangler"), "{why}"),
        other => panic!("a missing database was re-created: {other:?}"),
    }
    assert!(!dir.join("legemiddel.db").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replaced_database_file_is_refused_at_start() {
    let a = TestDb::sqlite();
    let b = TestDb::sqlite();
    let (store::Location::DataDir(dir_a), store::Location::DataDir(dir_b)) =
        (a.location.clone(), b.location.clone())
    else {
        unreachable!()
    };
    // Both closed, as at a restart: no connection of theirs holds a file.
    store::Store::open(&a.location).await.unwrap().close().await;
    store::Store::open(&b.location).await.unwrap().close().await;
    std::fs::copy(dir_b.join("legemiddel.db"), dir_a.join("legemiddel.db")).unwrap();
    match store::Store::open(&a.location).await {
        Err(store::StoreError::Identity(why)) => assert!(why.contains("byttet ut"), "{why}"),
        other => panic!("a replaced database was accepted: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_data_folder_and_database_are_readable_by_the_service_user_only() {
    use std::os::unix::fs::PermissionsExt;
    let db = TestDb::sqlite();
    let store::Location::DataDir(dir) = db.location.clone() else {
        unreachable!()
    };
    drop(store::Store::open(&db.location).await.unwrap());
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&dir.join("legemiddel.db")), 0o600);
    assert_eq!(mode(&dir.join("legemiddel.db.id")), 0o600);
    // A folder someone opened up is tightened again at the next start.
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(
        dir.join("legemiddel.db"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    drop(store::Store::open(&db.location).await.unwrap());
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&dir.join("legemiddel.db")), 0o600);
}

/// Runs SQL on the PostgreSQL server as its administrator.
async fn admin(sql: &str) {
    let url = std::env::var("LEGEMIDDEL_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let mut c = sqlx::AnyConnection::connect(&url).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
        .execute(&mut c)
        .await
        .unwrap();
}

fn database_name(url: &str) -> String {
    url.rsplit('/').next().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_database_that_turns_read_only_or_goes_away_acknowledges_nothing_and_recovers() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let name = database_name(&db.url);
    let app = spawn(db).await;
    let doctor = token(
        &app,
        "lege",
        Role::Prescriber,
        None,
        Some("hospital_doctor"),
    );
    let mut acked = Vec::new();
    for m in 0..10 {
        let r = decide(&app, &doctor, m).await;
        assert_eq!(r.status, 200);
        acked.push((r.header("x-audit-seq").unwrap().parse().unwrap(), m));
    }
    let kick = format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' AND pid <> pg_backend_pid()"
    );

    // Read-only: every new session refuses writes.
    admin(&format!(
        "ALTER DATABASE {name} SET default_transaction_read_only = on"
    ))
    .await;
    admin(&kick).await;
    for m in 100..110 {
        let r = decide(&app, &doctor, m).await;
        assert_eq!(
            r.status, 503,
            "acknowledged on a read-only database: {}",
            r.body
        );
    }
    let ready = request(app.addr, "GET", "/readyz", &[], "").await;
    assert_eq!(ready.status, 503, "{}", ready.body);
    admin(&format!(
        "ALTER DATABASE {name} RESET default_transaction_read_only"
    ))
    .await;
    assert!(
        wait_ready(&app, Duration::from_secs(15)).await,
        "no recovery from read-only"
    );
    for m in 200..205 {
        let r = decide(&app, &doctor, m).await;
        assert_eq!(r.status, 200, "{}", r.body);
        acked.push((r.header("x-audit-seq").unwrap().parse().unwrap(), m));
    }

    // Away: every connection is cut.
    admin(&kick).await;
    let until = Instant::now() + Duration::from_secs(15);
    let mut served = 0;
    let mut m = 300;
    while served < 5 && Instant::now() < until {
        m += 1;
        let r = decide(&app, &doctor, m).await;
        match r.status {
            200 => {
                acked.push((r.header("x-audit-seq").unwrap().parse().unwrap(), m));
                served += 1;
            }
            503 => {}
            other => panic!("{other}: {}", r.body),
        }
    }
    assert_eq!(served, 5, "no recovery after the connections were cut");
    assert_every_ack_is_stored(&app, &acked, "postgres").await;
}

/// Decisions sent to several instances at once, `per` each, concurrently.
async fn load(apps: &[&TestApp], tokens: &[String], per: usize) -> Vec<(i64, usize)> {
    let mut tasks = Vec::new();
    for (i, app) in apps.iter().enumerate() {
        for k in 0..per {
            let (addr, t) = (app.addr, tokens[i].clone());
            let marker = i * 100_000 + k;
            tasks.push(tokio::spawn(async move {
                (decide_at(addr, &t, marker).await, marker)
            }));
        }
    }
    let mut acked = Vec::new();
    for t in tasks {
        let (r, marker) = t.await.unwrap();
        assert_eq!(r.status, 200, "{}", r.body);
        acked.push((r.header("x-audit-seq").unwrap().parse().unwrap(), marker));
    }
    acked
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_on_one_database_share_one_chain_sessions_and_sign_out() {
    for db in TestDb::all().await {
        let place = format!("{:?}", db.location);
        let location = db.location.clone();
        let first = spawn(db).await;
        let second = spawn_with(TestDb::shared(&location), |_| {}).await;
        let tokens = [
            token(&first, "a", Role::Prescriber, None, Some("gp")),
            token(&second, "b", Role::Prescriber, None, Some("gp")),
        ];
        let acked = load(&[&first, &second], &tokens, 150).await;
        assert_eq!(acked.len(), 300);
        assert_every_ack_is_stored(&first, &acked, &place).await;
        let v = first.store.verify_audit().await.unwrap();
        assert_eq!((v.records, v.broken), (300, None), "{place}");

        // A case change on one instance and decisions on the other interleave in the chain.
        let doctor = token(
            &first,
            "lege",
            Role::Prescriber,
            Some("Helse Bergen HF"),
            Some("hospital_doctor"),
        );
        let body =
            serde_json::json!({ "fields": { "atc": "L01FF02", "substance": "pembrolizumab" } });
        let auth = format!("Bearer {doctor}");
        let created = request(
            second.addr,
            "POST",
            "/api/v1/off-label",
            &[
                ("Authorization", &auth),
                ("Content-Type", "application/json"),
            ],
            &body.to_string(),
        )
        .await;
        assert_eq!(created.status, 201, "{}", created.body);
        let seq: i64 = created.header("x-audit-seq").unwrap().parse().unwrap();
        assert_eq!(seq, 301, "{place}");
        assert_eq!(first.store.verify_audit().await.unwrap().broken, None);

        // A web session made on one instance works on the other; signing out on one ends it
        // on both.
        let login = request(
            first.addr,
            "POST",
            "/logg-inn",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            "user=lokal%3Akari.lege",
        )
        .await;
        let cookie = login
            .header("set-cookie")
            .unwrap_or_else(|| panic!("no cookie: {} {}", login.status, login.body))
            .split(';')
            .next()
            .unwrap()
            .to_string();
        let home = request(second.addr, "GET", "/", &[("Cookie", &cookie)], "").await;
        assert_eq!(home.status, 200, "{place}");
        let token_text = cookie.split_once('=').unwrap().1;
        let csrf = server::csrf_for(token_text);
        let out = request(
            first.addr,
            "POST",
            "/logg-ut",
            &[
                ("Cookie", &cookie),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            &format!("csrf={csrf}"),
        )
        .await;
        assert_eq!(out.status, 303, "{}", out.body);
        for app in [&first, &second] {
            let after = request(app.addr, "GET", "/", &[("Cookie", &cookie)], "").await;
            assert_eq!(
                after.status, 303,
                "the session lives on after signing out: {place}"
            );
            assert_eq!(after.header("location"), Some("/logg-inn"));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_starting_at_once_on_a_fresh_database_both_start() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let rules = Arc::new(ruleset::RuleSet::embedded().unwrap());
    let config = server::Config::new("127.0.0.1:0".parse().unwrap(), db.location.clone(), rules);
    let (a, b, c) = tokio::join!(
        server::App::build(config.clone()),
        server::App::build(config.clone()),
        server::App::build(config)
    );
    for app in [a, b, c] {
        app.expect("an instance failed to start beside another");
    }
    let store = store::Store::open(&db.location).await.unwrap();
    assert!(store.signing_key().await.unwrap().is_some());
}
