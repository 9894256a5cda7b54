//! Signed heads of the audit trail, for keeping outside the database.
//!
//! The hash chain shows any change *inside* the trail, but not a trail cut short at its end, nor
//! one re-hashed from the first changed record onwards by someone who can write the database. A
//! head — the last record's sequence number and hash — kept where that someone cannot reach
//! closes both holes: `legemiddel audit verify --expect-head FILE` fails when the chain no
//! longer reaches a head in the file. Heads are signed with the service's key so a head file
//! cannot be forged to match a rewritten trail.
//!
//! The service writes heads on its own ([`run_checkpoints`]) to a file or standard output the
//! operator names (`serve --audit-checkpoints`), every N records or minutes, one JSON line each.

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use store::Store;

use crate::LocalKey;

/// A signed head: one JSON line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignedHead {
    /// The last record's sequence number.
    pub seq: i64,
    /// Its hash.
    pub hash: String,
    /// When it was written (the record's own time; empty for an empty trail).
    pub at: String,
    /// When the head was signed.
    pub signed_at: String,
    /// The signing key's id.
    pub kid: String,
    /// Ed25519 over [`SignedHead::message`], base64url without padding.
    pub signature: String,
}

impl SignedHead {
    /// What is signed: the fields that pin the chain, one per line after a fixed label.
    pub fn message(seq: i64, hash: &str, at: &str, signed_at: &str) -> String {
        format!("legemiddel-audit-head/1\n{seq}\n{hash}\n{at}\n{signed_at}\n")
    }

    /// The store's head now, signed with `key`.
    pub async fn now(store: &Store, key: &LocalKey) -> Result<SignedHead, store::StoreError> {
        let (seq, hash) = store.audit_head().await?;
        let at = store.audit_head_time().await?.unwrap_or_default();
        Ok(SignedHead::sign(key, seq, hash, at))
    }

    /// Signs a head.
    pub fn sign(key: &LocalKey, seq: i64, hash: String, at: String) -> SignedHead {
        let signed_at = crate::now_rfc3339();
        let signature = URL_SAFE_NO_PAD
            .encode(key.sign_bytes(Self::message(seq, &hash, &at, &signed_at).as_bytes()));
        SignedHead {
            seq,
            hash,
            at,
            signed_at,
            kid: key.kid.clone(),
            signature,
        }
    }

    /// Whether the signature is `key`'s.
    pub fn signed_by(&self, key: &LocalKey) -> bool {
        let Ok(sig) = URL_SAFE_NO_PAD.decode(&self.signature) else {
            return false;
        };
        self.kid == key.kid
            && key.verify_bytes(
                Self::message(self.seq, &self.hash, &self.at, &self.signed_at).as_bytes(),
                &sig,
            )
    }

    /// Reads heads from a file's text: one JSON object per line (a checkpoint file), or one
    /// object over several lines (`audit head > FILE`). Errors name the line.
    pub fn parse_all(text: &str) -> Result<Vec<SignedHead>, String> {
        if let Ok(one) = serde_json::from_str::<SignedHead>(text) {
            return Ok(vec![one]);
        }
        let mut heads = Vec::new();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            heads.push(serde_json::from_str(line).map_err(|e| format!("linje {}: {e}", i + 1))?);
        }
        if heads.is_empty() {
            return Err("ingen hoder i filen".into());
        }
        Ok(heads)
    }

    /// Checks that the trail in `store` reaches this head unchanged: the head is signed by
    /// `key`, the chain verifies at least up to it, and its record has the head's hash.
    pub async fn check(
        &self,
        store: &Store,
        key: &LocalKey,
        verified_up_to: i64,
    ) -> Result<(), String> {
        if !self.signed_by(key) {
            return Err(format!(
                "hodet {} er ikke signert med tjenestens nøkkel ({}): filen er endret, eller nøkkelen i databasen er byttet",
                self.seq, key.kid
            ));
        }
        if self.seq == 0 {
            return Ok(());
        }
        if verified_up_to < self.seq {
            return Err(format!(
                "kjeden når ikke hodet: den verifiserer bare til post {verified_up_to}, hodet er post {} — slutten av loggen er slettet eller kjeden er brutt",
                self.seq
            ));
        }
        match store.audit_record(self.seq).await {
            Ok(Some(r)) if r.hash == self.hash => Ok(()),
            Ok(Some(r)) => Err(format!(
                "post {} har hash {}, hodet sier {}: kjeden er hashet om etter at hodet ble tatt vare på",
                self.seq, r.hash, self.hash
            )),
            Ok(None) => Err(format!("post {} finnes ikke lenger", self.seq)),
            Err(e) => Err(e.to_string()),
        }
    }
}

/// Where the service writes its checkpoints.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CheckpointTarget {
    /// Appended to a file (created `0600`), one line per head, synced to disk.
    File(PathBuf),
    /// Standard output, one line per head (for a log collector outside the machine).
    Stdout,
}

/// When the service writes a checkpoint.
#[derive(Clone, Debug)]
pub struct Checkpoints {
    /// Where.
    pub target: CheckpointTarget,
    /// After this many new records …
    pub every_records: i64,
    /// … or this long after the last checkpoint, if anything was added.
    pub every: Duration,
}

/// Writes a signed head whenever enough records or time have passed. Runs until the process
/// ends; a failed write is logged and tried again at the next tick.
pub async fn run_checkpoints(store: Store, key: LocalKey, config: Checkpoints) {
    let mut last_seq = -1i64;
    let mut last_at = Instant::now();
    let mut tick = tokio::time::interval(Duration::from_secs(1).min(config.every));
    loop {
        tick.tick().await;
        let Ok((seq, _)) = store.audit_head().await else {
            continue;
        };
        let due = last_seq < 0
            || seq - last_seq >= config.every_records
            || (seq > last_seq && last_at.elapsed() >= config.every);
        if !due || seq == last_seq {
            continue;
        }
        let head = match SignedHead::now(&store, &key).await {
            Ok(h) => h,
            Err(e) => {
                tracing::warn!(error = %e, "revisjonshode: kunne ikke lese hodet");
                continue;
            }
        };
        let line = serde_json::to_string(&head).unwrap_or_default();
        match write_line(&config.target, &line) {
            Ok(()) => {
                tracing::info!(seq = head.seq, "revisjonshode skrevet");
                last_seq = head.seq;
                last_at = Instant::now();
            }
            Err(e) => tracing::error!(error = %e, "revisjonshode kunne ikke skrives"),
        }
    }
}

fn write_line(target: &CheckpointTarget, line: &str) -> std::io::Result<()> {
    match target {
        CheckpointTarget::Stdout => {
            let mut out = std::io::stdout().lock();
            writeln!(out, "{line}")?;
            out.flush()
        }
        CheckpointTarget::File(path) => {
            use std::os::unix::fs::OpenOptionsExt;
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .mode(0o600)
                .open(path)?;
            writeln!(f, "{line}")?;
            f.sync_all()
        }
    }
}
