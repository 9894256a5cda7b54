//! Persistence for the `legemiddel` service: one schema on SQLite (the embedded default, a file
//! in a data directory, nothing to install) and on PostgreSQL, with migrations for both applied
//! on start. It holds the audit trail — append-only, hash-chained ([`chain`]) — and the key the
//! service signs its own tokens with.
//!
//! **Architecture invariant:** this is the only crate that knows SQL. Queries are checked at run
//! time (`sqlx::query`), so building needs no database.

mod cases;
mod catalogue;
pub mod chain;
mod writer;

use std::path::{Path, PathBuf};
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Row};

pub use cases::{CaseData, CaseEvent, CaseFilter, CaseRecord};
pub use catalogue::{Imported, Snapshot};
pub use chain::{NewRecord, Record};
pub use writer::{AuditWriter, Receipt};

/// Where the data lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// A data directory holding `legemiddel.db` (SQLite), created on first use.
    DataDir(PathBuf),
    /// A database URL: `postgres://…` (or `sqlite://…`).
    Url(String),
}

impl Location {
    /// The platform's per-user data folder, e.g. `~/.local/share/legemiddel` on Linux.
    pub fn default_data_dir() -> PathBuf {
        dirs::data_dir()
            .unwrap_or_else(|| PathBuf::from("."))
            .join("legemiddel")
    }

    /// Text for people, without a password.
    pub fn describe(&self) -> String {
        match self {
            Location::DataDir(dir) => format!("SQLite i {}", dir.join("legemiddel.db").display()),
            Location::Url(url) => match url.split_once('@') {
                Some((scheme_user, host)) => {
                    let scheme = scheme_user.split("://").next().unwrap_or("db");
                    format!("{scheme}://…@{host}")
                }
                None => url.clone(),
            },
        }
    }
}

/// Which database is behind the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// A store failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be reached or answered with an error.
    #[error("databasen: {0}")]
    Database(#[from] sqlx::Error),
    /// A migration failed.
    #[error("migrering: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The data directory could not be created.
    #[error("datamappen {path}: {source}")]
    DataDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The URL names a database this store does not support.
    #[error("ukjent database-URL «{0}»: ventet postgres://… eller sqlite://…")]
    UnknownUrl(String),
    /// The case has changed since the version the change was made from.
    #[error(
        "sak {id} er endret av noen andre i mellomtiden (versjon {current}, skjemaet var fra versjon {expected})"
    )]
    Stale {
        /// The case.
        id: i64,
        /// The version the change was made from.
        expected: i64,
        /// The version now.
        current: i64,
    },
    /// No such case.
    #[error("sak {0} finnes ikke")]
    NotFound(i64),
    /// Stored data that cannot be read back.
    #[error("lagrede data er ødelagt: {0}")]
    Corrupt(String),
    /// The audit writer has stopped.
    #[error("revisjonsloggen er stoppet")]
    WriterStopped,
}

/// The database, migrated.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Store {
    /// Connects (creating the data directory and SQLite file if needed) and applies migrations.
    pub async fn open(location: &Location) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let url = match location {
            Location::DataDir(dir) => {
                std::fs::create_dir_all(dir).map_err(|source| StoreError::DataDir {
                    path: dir.clone(),
                    source,
                })?;
                sqlite_url(&dir.join("legemiddel.db"))
            }
            Location::Url(url) => url.clone(),
        };
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            return Err(StoreError::UnknownUrl(url));
        };
        let options: AnyConnectOptions = url.parse()?;
        let pool = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 4 } else { 8 })
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers work while the audit writer commits; FULL makes every
                        // acknowledged commit durable; the busy timeout waits out a concurrent writer.
                        sqlx::query("PRAGMA journal_mode = WAL")
                            .execute(&mut *conn)
                            .await?;
                        sqlx::query("PRAGMA synchronous = FULL")
                            .execute(&mut *conn)
                            .await?;
                        sqlx::query("PRAGMA busy_timeout = 5000")
                            .execute(&mut *conn)
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        let store = Store { pool, backend };
        store.migrate().await?;
        Ok(store)
    }

    /// Applies the migrations not yet applied (idempotent).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&self.pool).await?,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&self.pool).await?,
        }
        Ok(())
    }

    /// The database behind the store.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// The local signing key (`kid`, PKCS#8 DER), if one was created.
    pub async fn signing_key(&self) -> Result<Option<(String, Vec<u8>)>, StoreError> {
        let row = sqlx::query("SELECT kid, pkcs8_hex FROM signing_key WHERE id = 1")
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.and_then(|r| {
            let kid: String = r.get(0);
            let key: String = r.get(1);
            hex::decode(key).ok().map(|k| (kid, k))
        }))
    }

    /// Stores `key` as the local signing key unless one exists; returns the one in force (so
    /// two processes starting at once agree on one key).
    pub async fn signing_key_or_insert(
        &self,
        kid: &str,
        pkcs8: &[u8],
        created: &str,
    ) -> Result<(String, Vec<u8>), StoreError> {
        let insert = match self.backend {
            Backend::Sqlite => {
                "INSERT OR IGNORE INTO signing_key (id, kid, pkcs8_hex, created) VALUES (1, $1, $2, $3)"
            }
            Backend::Postgres => {
                "INSERT INTO signing_key (id, kid, pkcs8_hex, created) VALUES (1, $1, $2, $3) ON CONFLICT (id) DO NOTHING"
            }
        };
        sqlx::query(insert)
            .bind(kid)
            .bind(hex::encode(pkcs8))
            .bind(created)
            .execute(&self.pool)
            .await?;
        Ok(self
            .signing_key()
            .await?
            .expect("a signing key was just stored"))
    }

    /// The last record of the audit trail (`seq`, `hash`); (0, genesis) when empty.
    pub async fn audit_head(&self) -> Result<(i64, String), StoreError> {
        let row = sqlx::query("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map_or((0, chain::GENESIS.to_string()), |r| (r.get(0), r.get(1))))
    }

    /// Appends linked records in one transaction: all or none.
    pub async fn append(&self, records: &[Record]) -> Result<(), StoreError> {
        // Up to 50 rows per statement: one round trip to the database per 50 records.
        const ROWS: usize = 50;
        let mut tx = self.pool.begin().await?;
        for chunk in records.chunks(ROWS) {
            let rows: Vec<String> = (0..chunk.len())
                .map(|i| {
                    let p: Vec<String> = (1..=10).map(|k| format!("${}", i * 10 + k)).collect();
                    format!("({})", p.join(", "))
                })
                .collect();
            let sql = format!(
                "INSERT INTO audit (seq, at, actor, role, action, rule_set, request, response, prev_hash, hash) VALUES {}",
                rows.join(", ")
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for r in chunk {
                q = q
                    .bind(r.seq)
                    .bind(&r.content.at)
                    .bind(&r.content.actor)
                    .bind(&r.content.role)
                    .bind(&r.content.action)
                    .bind(&r.content.rule_set)
                    .bind(&r.content.request)
                    .bind(&r.content.response)
                    .bind(&r.prev_hash)
                    .bind(&r.hash);
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Up to `limit` records after `seq`, in order.
    pub async fn audit_after(&self, seq: i64, limit: i64) -> Result<Vec<Record>, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, at, actor, role, action, rule_set, request, response, prev_hash, hash \
             FROM audit WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(seq)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| Record {
                seq: r.get(0),
                content: NewRecord {
                    at: r.get(1),
                    actor: r.get(2),
                    role: r.get(3),
                    action: r.get(4),
                    rule_set: r.get(5),
                    request: r.get(6),
                    response: r.get(7),
                },
                prev_hash: r.get(8),
                hash: r.get(9),
            })
            .collect())
    }

    /// Walks the whole audit trail and checks the chain.
    pub async fn verify_audit(&self) -> Result<Verification, StoreError> {
        let (mut seq, mut hash) = (0i64, chain::GENESIS.to_string());
        loop {
            let page = self.audit_after(seq, 10_000).await?;
            if page.is_empty() {
                return Ok(Verification {
                    records: seq,
                    head: hash,
                    broken: None,
                });
            }
            match chain::verify(seq, &hash, &page) {
                Ok((s, h)) => (seq, hash) = (s, h),
                Err(b) => {
                    let good = match b {
                        chain::Break::Gap { expected, .. } => expected - 1,
                        chain::Break::Link { seq } | chain::Break::Content { seq } => seq - 1,
                    };
                    let head = if good == seq {
                        hash
                    } else {
                        page[(good - seq - 1) as usize].hash.clone()
                    };
                    return Ok(Verification {
                        records: good,
                        head,
                        broken: Some(b),
                    });
                }
            }
        }
    }
}

/// The result of walking the audit trail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verification {
    /// Records that verified.
    pub records: i64,
    /// The hash of the last record that verified.
    pub head: String,
    /// Where the chain breaks, if it does.
    pub broken: Option<chain::Break>,
}

fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}?mode=rwc", path.display())
}
