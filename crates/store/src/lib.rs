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
mod identity;
mod pharmacy;
mod sessions;
pub mod stock_ledger;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AnyPool, Connection, Row};

pub use cases::{CaseData, CaseEvent, CaseFilter, CaseRecord};
pub use catalogue::{Imported, Snapshot};
pub use chain::{NewRecord, Record};
pub use identity::id_file;
pub use pharmacy::{ClaimRecord, Computed, DispensingKey, NewClaim, Recorded, YearSoFar};
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
    /// A stock event of an all-or-nothing batch was refused: nothing of the batch was stored.
    #[error("ingenting er registrert: {0}")]
    StockRefused(String),
    /// Stored data that cannot be read back.
    #[error("lagrede data er ødelagt: {0}")]
    Corrupt(String),
    /// The audit writer has stopped.
    #[error("revisjonsloggen er stoppet")]
    WriterStopped,
    /// The database file is not the one this data folder was created with: deleted, replaced or
    /// moved while the folder kept its identity file.
    #[error("{0}")]
    Identity(String),
}

/// Settings for opening a store; [`Default`] is what `serve` uses.
#[derive(Clone, Debug, Default)]
pub struct StoreOptions {
    /// SQLite only: the most pages the database file may hold (`PRAGMA max_page_count`), read
    /// each time a connection opens. A full "disk" on demand: the tests fill it, then raise the
    /// cap, and the service must recover by itself.
    pub sqlite_max_pages: Option<Arc<AtomicU32>>,
}

/// The database, migrated.
#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// The SQLite file the store was opened on and its identity on disk, when it is a file.
    file: Option<identity::FileIdentity>,
    /// SQLite takes one writer at a time, and a writer that finds the file locked polls with
    /// sleeps (`busy_timeout`): under load the lock goes round slowly. This process's writers
    /// queue here instead, in order; other processes still meet SQLite's own lock.
    sqlite_writer: Option<Arc<tokio::sync::Mutex<()>>>,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Store {
    /// Connects (creating the data directory and SQLite file if needed) and applies migrations.
    pub async fn open(location: &Location) -> Result<Store, StoreError> {
        Store::open_with(location, StoreOptions::default()).await
    }

    /// [`Store::open`] with settings.
    ///
    /// A data directory is created `0700` and its database file `0600`: the file holds the
    /// service's signing key and health data, and nobody but the service's user may read it. A
    /// data directory that once held a database (it has the identity file) but no longer does is
    /// refused rather than started afresh.
    pub async fn open_with(
        location: &Location,
        options: StoreOptions,
    ) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let (url, db_file) = match location {
            Location::DataDir(dir) => {
                let file = dir.join("legemiddel.db");
                identity::prepare_data_dir(dir, &file)?;
                (sqlite_url(&file), Some(file))
            }
            Location::Url(url) => (url.clone(), None),
        };
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            return Err(StoreError::UnknownUrl(url));
        };
        let connect: AnyConnectOptions = url.parse()?;
        let max_pages = options.sqlite_max_pages.clone();
        let pool = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 4 } else { 8 })
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _| {
                let max_pages = max_pages.clone();
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
                        if let Some(pages) = &max_pages {
                            let sql = format!(
                                "PRAGMA max_page_count = {}",
                                pages.load(Ordering::Relaxed)
                            );
                            sqlx::query(sqlx::AssertSqlSafe(sql))
                                .execute(&mut *conn)
                                .await?;
                        }
                    }
                    Ok(())
                })
            })
            .connect_with(connect)
            .await?;
        let mut store = Store {
            pool,
            backend,
            file: None,
            sqlite_writer: (backend == Backend::Sqlite)
                .then(|| Arc::new(tokio::sync::Mutex::new(()))),
        };
        store.migrate().await?;
        if let Some(file) = db_file {
            store.file = Some(identity::settle(&store, &file).await?);
        } else {
            store.identity_or_insert().await?;
        }
        Ok(store)
    }

    /// Closes every connection and waits until they are closed (a process that exits does the
    /// same): nothing of this store holds the database afterwards.
    pub async fn close(self) {
        self.pool.close().await;
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

    /// Whether the store takes a commit now: the database file is still the one opened, and a
    /// transaction that writes 64 KiB (more than a batch of audit records) commits. A full disk,
    /// a read-only or vanished database all fail here, which is what readiness must report — a
    /// read, or a one-row update that fits in a page already there, would still succeed.
    pub async fn probe_write(&self, now: &str) -> Result<(), StoreError> {
        let pad = match self.backend {
            Backend::Sqlite => "zeroblob(65536)",
            Backend::Postgres => "decode(repeat('00', 65536), 'hex')",
        };
        let insert = format!("INSERT INTO write_probe (id, pad) VALUES (1, {pad})");
        let upsert = "INSERT INTO heartbeat (id, at) VALUES (1, $1) \
                      ON CONFLICT (id) DO UPDATE SET at = excluded.at";
        let now = now.to_string();
        self.write(|conn| {
            Box::pin(async move {
                sqlx::query("DELETE FROM write_probe")
                    .execute(&mut *conn)
                    .await?;
                sqlx::query(sqlx::AssertSqlSafe(insert))
                    .execute(&mut *conn)
                    .await?;
                sqlx::query("DELETE FROM write_probe")
                    .execute(&mut *conn)
                    .await?;
                sqlx::query(upsert).bind(now).execute(&mut *conn).await?;
                Ok(())
            })
        })
        .await
    }

    /// Runs `work` in one transaction on a connection of its own, and commits. On any failure
    /// the transaction is rolled back **and the connection is closed, not returned to the
    /// pool**: after a failed `COMMIT` (a full disk, say) a connection may be left inside a
    /// transaction that sqlx no longer knows about, where later "commits" would only release
    /// savepoints and nothing would reach the disk. A fresh connection replaces it, so the
    /// service recovers by itself once the fault is gone. Before committing, an SQLite store
    /// checks that its file is still the one it opened.
    pub(crate) async fn write<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        F: for<'c> FnOnce(
            &'c mut AnyConnection,
        ) -> std::pin::Pin<
            Box<dyn std::future::Future<Output = Result<T, StoreError>> + Send + 'c>,
        >,
    {
        self.check_file()?;
        let _turn = match &self.sqlite_writer {
            Some(lock) => Some(lock.clone().lock_owned().await),
            None => None,
        };
        let mut conn: PoolConnection<Any> = self.pool.acquire().await?;
        let result = async {
            let mut tx = conn.begin().await?;
            let value = work(&mut tx).await?;
            self.check_file()?;
            tx.commit().await?;
            Ok(value)
        }
        .await;
        // A refusal the caller expects (a stale case) leaves the connection sound.
        if let Err(e) = &result
            && !matches!(
                e,
                StoreError::Stale { .. } | StoreError::NotFound(_) | StoreError::StockRefused(_)
            )
        {
            conn.close_on_drop();
        }
        result
    }

    /// An SQLite store's file is still the one opened (not deleted or replaced under it).
    pub fn check_file(&self) -> Result<(), StoreError> {
        match &self.file {
            Some(f) => f.check(),
            None => Ok(()),
        }
    }

    /// This database's identity, created on first open.
    pub async fn identity(&self) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT uuid FROM store_identity WHERE id = 1")
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.get(0)))
    }

    /// The identity, written if the database has none yet (two processes agree on one).
    pub(crate) async fn identity_or_insert(&self) -> Result<String, StoreError> {
        if let Some(id) = self.identity().await? {
            return Ok(id);
        }
        let fresh = hex::encode(rand::random::<[u8; 16]>());
        sqlx::query(
            "INSERT INTO store_identity (id, uuid, created) VALUES (1, $1, $2) ON CONFLICT (id) DO NOTHING",
        )
        .bind(&fresh)
        .bind(identity::now_text())
        .execute(&self.pool)
        .await?;
        self.identity()
            .await?
            .ok_or_else(|| StoreError::Corrupt("databasen fikk ingen identitet".into()))
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

    /// When the last record was written (RFC 3339), if there is one.
    pub async fn audit_head_time(&self) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT at FROM audit ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.get(0)))
    }

    /// The record at `seq`, if there is one.
    pub async fn audit_record(&self, seq: i64) -> Result<Option<Record>, StoreError> {
        Ok(self
            .audit_after(seq - 1, 1)
            .await?
            .into_iter()
            .find(|r| r.seq == seq))
    }

    /// Appends records after the chain's head, in one transaction: all or none. Returns them
    /// linked. The head is read under the database's lock in the same transaction, so writers
    /// in any number of processes extend one chain.
    pub async fn append(&self, records: Vec<NewRecord>) -> Result<Vec<Record>, StoreError> {
        self.write(|conn| Box::pin(append_in(conn, records))).await
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

    /// Walks the whole audit trail and checks the chain, and that the stored head row names
    /// its last record (a tail cut off behind the service's back leaves them apart).
    pub async fn verify_audit(&self) -> Result<Verification, StoreError> {
        let (mut seq, mut hash) = (0i64, chain::GENESIS.to_string());
        loop {
            let page = self.audit_after(seq, 10_000).await?;
            if page.is_empty() {
                let row = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
                    .fetch_optional(&self.pool)
                    .await?;
                let broken = match row.map(|r| (r.get::<i64, _>(0), r.get::<String, _>(1))) {
                    Some((s, h)) if s == seq && h == hash => None,
                    Some((s, _)) => Some(chain::Break::Head {
                        stored: s,
                        found: seq,
                    }),
                    None => Some(chain::Break::Head {
                        stored: -1,
                        found: seq,
                    }),
                };
                return Ok(Verification {
                    records: seq,
                    head: hash,
                    broken,
                });
            }
            match chain::verify(seq, &hash, &page) {
                Ok((s, h)) => (seq, hash) = (s, h),
                Err(b) => {
                    let good = match b {
                        chain::Break::Gap { expected, .. } => expected - 1,
                        chain::Break::Link { seq } | chain::Break::Content { seq } => seq - 1,
                        chain::Break::Head { found, .. } => found,
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

/// Appends `records` inside the caller's transaction: takes the head row (the lock that orders
/// every writer), links the records after it, inserts them and moves the head. Nothing is
/// numbered until this runs, and the numbers count only if the caller's transaction commits.
pub(crate) async fn append_in(
    conn: &mut AnyConnection,
    records: Vec<NewRecord>,
) -> Result<Vec<Record>, StoreError> {
    // Up to 50 rows per statement: one round trip to the database per 50 records.
    const ROWS: usize = 50;
    let head = sqlx::query("UPDATE audit_head SET seq = seq WHERE id = 1 RETURNING seq, hash")
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::Corrupt("revisjonsloggens hode (audit_head) mangler".into()))?;
    let (head_seq, head_hash): (i64, String) = (head.try_get(0)?, head.try_get(1)?);
    let linked = chain::link(head_seq, &head_hash, records);
    for chunk in linked.chunks(ROWS) {
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
        q.execute(&mut *conn).await?;
    }
    if let Some(last) = linked.last() {
        sqlx::query("UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1")
            .bind(last.seq)
            .bind(&last.hash)
            .execute(&mut *conn)
            .await?;
    }
    Ok(linked)
}

/// `mode=rw`: the file exists (created `0600` by [`identity::prepare_data_dir`]); a connection
/// opened after it was deleted fails instead of quietly creating an empty database in its place.
fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}?mode=rw", path.display())
}
