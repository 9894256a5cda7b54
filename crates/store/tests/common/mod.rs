//! Test databases: a fresh SQLite data directory, or a fresh PostgreSQL database on the
//! server at `LEGEMIDDEL_TEST_POSTGRES` (default `postgres://postgres@127.0.0.1:5432/test`),
//! so tests never see each other's data. When no PostgreSQL answers, the PostgreSQL half of a
//! test is skipped with a message — unless `LEGEMIDDEL_REQUIRE_POSTGRES=1` (as `.ci/run` sets),
//! when it fails.

#![allow(dead_code, missing_docs)]

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::Connection;
use store::Location;

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn unique(prefix: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "{prefix}_{}_{}_{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        nanos
    )
}

/// A place for one test's data, removed when dropped.
pub struct TestDb {
    pub location: Location,
    /// A URL for raw access (tampering tests).
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Dir(PathBuf),
    Database {
        admin: String,
        name: String,
    },
    /// Another handle on a place some other `TestDb` owns and cleans up.
    Nothing,
}

impl TestDb {
    pub fn sqlite() -> TestDb {
        let dir = std::env::temp_dir().join(unique("legemiddel-test"));
        let url = format!("sqlite://{}?mode=rwc", dir.join("legemiddel.db").display());
        TestDb {
            location: Location::DataDir(dir.clone()),
            url,
            cleanup: Cleanup::Dir(dir),
        }
    }

    /// A fresh PostgreSQL database, or `None` (with a message) when no server answers.
    pub async fn postgres() -> Option<TestDb> {
        sqlx::any::install_default_drivers();
        let admin = std::env::var("LEGEMIDDEL_TEST_POSTGRES")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let required = std::env::var("LEGEMIDDEL_REQUIRE_POSTGRES").is_ok_and(|v| v == "1");
        let mut conn = match sqlx::AnyConnection::connect(&admin).await {
            Ok(c) => c,
            Err(e) if !required => {
                eprintln!("PostgreSQL at {admin} does not answer ({e}): PostgreSQL half skipped");
                return None;
            }
            Err(e) => panic!(
                "PostgreSQL at {admin} is required (LEGEMIDDEL_REQUIRE_POSTGRES=1) but does not answer: {e}"
            ),
        };
        let name = unique("legemiddel_test");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("create test database");
        let base = admin
            .rsplit_once('/')
            .map_or(admin.as_str(), |(b, _)| b)
            .to_string();
        let url = format!("{base}/{name}");
        Some(TestDb {
            location: Location::Url(url.clone()),
            url,
            cleanup: Cleanup::Database { admin, name },
        })
    }

    /// A second handle on the same place (a second instance on one database); the owner
    /// cleans up.
    pub fn shared(location: &Location) -> TestDb {
        let url = match location {
            Location::DataDir(dir) => {
                format!("sqlite://{}?mode=rwc", dir.join("legemiddel.db").display())
            }
            Location::Url(url) => url.clone(),
        };
        TestDb {
            location: location.clone(),
            url,
            cleanup: Cleanup::Nothing,
        }
    }

    /// The databases to run a test on: SQLite always, PostgreSQL when it answers.
    pub async fn all() -> Vec<TestDb> {
        let mut dbs = vec![TestDb::sqlite()];
        dbs.extend(TestDb::postgres().await);
        dbs
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::Nothing => {}
            Cleanup::Dir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Database { admin, name } => {
                let (admin, name) = (admin.clone(), name.clone());
                // Drop the database from a separate runtime: Drop cannot await.
                let _ = std::thread::spawn(move || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .unwrap();
                    rt.block_on(async {
                        if let Ok(mut c) = sqlx::AnyConnection::connect(&admin).await {
                            let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                            )))
                            .execute(&mut c)
                            .await;
                        }
                    });
                })
                .join();
            }
        }
    }
}
