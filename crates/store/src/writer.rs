//! The audit writer: one task that appends every record, in order, with group commit.
//!
//! Handlers send a record and wait for its receipt; the writer takes everything waiting (up to
//! a batch), links it to the chain, writes it in one transaction, and only then answers. So a
//! request is acknowledged only after its record is durable, and under load one commit carries
//! many records.
//!
//! It keeps no head of its own: each batch reads the head under the database's lock in the same
//! transaction ([`Store::append`]), so case changes (which append their record in their own
//! transaction) and the writers of other `serve` processes on the same PostgreSQL extend the one
//! chain with them. A failed batch is answered with an error to every caller in it — none of
//! its sequence numbers was issued — and the next batch starts afresh on a new connection.

use tokio::sync::{mpsc, oneshot};

use crate::chain::NewRecord;
use crate::{Store, StoreError};

/// Most records committed in one transaction.
const MAX_BATCH: usize = 512;

/// Proof that a record is stored: its place in the chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    /// Its sequence number.
    pub seq: i64,
    /// Its hash.
    pub hash: String,
}

type Job = (NewRecord, oneshot::Sender<Result<Receipt, String>>);

/// A handle to the audit writer task.
#[derive(Clone, Debug)]
pub struct AuditWriter {
    tx: mpsc::Sender<Job>,
}

impl AuditWriter {
    /// Starts the writer on `store`, continuing its chain.
    pub async fn start(store: Store) -> Result<AuditWriter, StoreError> {
        let (tx, rx) = mpsc::channel::<Job>(8 * MAX_BATCH);
        tokio::spawn(run(store, rx));
        Ok(AuditWriter { tx })
    }

    /// Appends a record and waits until it is durable.
    pub async fn record(&self, record: NewRecord) -> Result<Receipt, StoreError> {
        let (done, receipt) = oneshot::channel();
        self.tx
            .send((record, done))
            .await
            .map_err(|_| StoreError::WriterStopped)?;
        match receipt.await {
            Ok(Ok(r)) => Ok(r),
            Ok(Err(message)) => Err(StoreError::Database(sqlx::Error::Protocol(message))),
            Err(_) => Err(StoreError::WriterStopped),
        }
    }
}

async fn run(store: Store, mut rx: mpsc::Receiver<Job>) {
    let mut jobs: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut jobs, MAX_BATCH).await > 0 {
        let (records, waiters): (Vec<NewRecord>, Vec<_>) = jobs.drain(..).unzip();
        match store.append(records).await {
            Ok(linked) => {
                for (record, waiter) in linked.into_iter().zip(waiters) {
                    let _ = waiter.send(Ok(Receipt {
                        seq: record.seq,
                        hash: record.hash,
                    }));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "revisjonsloggen kunne ikke skrives");
                for waiter in waiters {
                    let _ = waiter.send(Err(e.to_string()));
                }
            }
        }
    }
}
