//! The audit writer: one task that appends every record, in order, with group commit.
//!
//! Handlers send a record and wait for its receipt; the writer takes everything waiting (up to
//! a batch), links it to the chain, writes it in one transaction, and only then answers. So a
//! request is acknowledged only after its record is durable, and under load one commit carries
//! many records. Being the only writer, it keeps the chain's head in memory.

use tokio::sync::{mpsc, oneshot};

use crate::chain::{self, NewRecord};
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
        let head = store.audit_head().await?;
        let (tx, rx) = mpsc::channel::<Job>(8 * MAX_BATCH);
        tokio::spawn(run(store, head, rx));
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

async fn run(store: Store, mut head: (i64, String), mut rx: mpsc::Receiver<Job>) {
    let mut jobs: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    while rx.recv_many(&mut jobs, MAX_BATCH).await > 0 {
        let (records, waiters): (Vec<NewRecord>, Vec<_>) = jobs.drain(..).unzip();
        let linked = chain::link(head.0, &head.1, records);
        match store.append(&linked).await {
            Ok(()) => {
                if let Some(last) = linked.last() {
                    head = (last.seq, last.hash.clone());
                }
                for (record, waiter) in linked.into_iter().zip(waiters) {
                    let _ = waiter.send(Ok(Receipt {
                        seq: record.seq,
                        hash: record.hash,
                    }));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "revisjonsloggen kunne ikke skrives");
                // Another writer may have appended (a second instance on the same database):
                // reload the head so the next batch links to what is really there.
                if let Ok(h) = store.audit_head().await {
                    head = h;
                }
                for waiter in waiters {
                    let _ = waiter.send(Err(e.to_string()));
                }
            }
        }
    }
}
